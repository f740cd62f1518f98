"""CIFAR-10 as image files: `train/` and `test/` folders of class folders (torchvision's
ImageFolder layout), extracted or inside a zip, e.g. the JPEG copy in
`<data root>/cifar10-images/cifar10-images.zip` (`cifar10-images/{train,test}/<class>/NNNN.jpg`).

Decoded once (6-7 s for the 60,000 JPEGs on 2 cores) and cached as tensors. Images are ordered by
class, then file name, as the folders list them: the first 1000 training images are all one class
(airplanes), unlike the official archive's mixed batches.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import zipfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from metalearn.data.base import DataError, load_cache, save_cache

log = logging.getLogger(__name__)

SIDE = 32
NAMES = "cifar10-images"  # the folder and zip name the data root is searched for
MEMBER = re.compile(r"(?:^|/)(train|test)/([^/]+)/([^/]+\.(?:jpe?g|png|bmp))$", re.IGNORECASE)

Standard = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, list[str]]


def find(root: Path) -> Path | None:
    """The image copy under a data root: a zip or a folder holding `train/` and `test/`."""
    for zipped in (root / NAMES / f"{NAMES}.zip", root / f"{NAMES}.zip"):
        if zipped.is_file():
            return zipped
    for folder in (root / NAMES / NAMES, root / NAMES, root):
        if (folder / "train").is_dir() and (folder / "test").is_dir():
            return folder
    return None


def _members(source: Path) -> list[tuple[str, str, str, bytes | Path]]:
    """(part, class, file name, bytes or path) of every image file, sorted by path."""
    found = []
    if source.is_file():
        try:
            with zipfile.ZipFile(source) as archive:
                for name in sorted(archive.namelist()):
                    if m := MEMBER.search(name):
                        found.append((*m.groups(), archive.read(name)))
        except (zipfile.BadZipFile, OSError) as err:
            raise DataError(f"cifar10: cannot read {source.name} as a zip ({err})") from None
    else:
        for part in ("train", "test"):
            for path in sorted((source / part).glob("*/*")):
                if path.is_file() and (m := MEMBER.search(path.relative_to(source).as_posix())):
                    found.append((*m.groups(), path))
    return found


def _pixels(data: bytes | Path, what: str) -> np.ndarray:
    try:
        with Image.open(io.BytesIO(data) if isinstance(data, bytes) else data) as img:
            img = img.convert("RGB")
            if img.size != (SIDE, SIDE):
                img = img.resize((SIDE, SIDE), Image.Resampling.BILINEAR)
            return np.asarray(img, dtype=np.uint8).transpose(2, 0, 1)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
        raise DataError(f"cifar10: cannot read {what} as an image ({err})") from None


def load(source: Path) -> Standard:
    """(train uint8 [N,3,32,32], labels, test images, labels, class names) from image files."""
    stat = source.stat()
    key = hashlib.sha1(f"{source.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    cache = f"cifar10-images-{key.hexdigest()[:12]}.pt"
    if (hit := load_cache(cache)) is not None:
        names = hit["names"].split("\n")
        return hit["train_x"], hit["train_y"], hit["test_x"], hit["test_y"], names
    members = _members(source)
    parts = {p: sorted({c for q, c, _, _ in members if q.lower() == p}) for p in ("train", "test")}
    if not parts["train"] or parts["train"] != parts["test"]:
        raise DataError(
            f"cifar10: {source.name} must hold train/ and test/ with the same class folders; "
            f"found train: {', '.join(parts['train']) or 'none'}; "
            f"test: {', '.join(parts['test']) or 'none'}"
        )
    names = parts["train"]
    index = {c: i for i, c in enumerate(names)}
    out = {}
    for part in ("train", "test"):
        rows = [(c, f, d) for q, c, f, d in members if q.lower() == part]
        images = np.stack([_pixels(d, f"{part}/{c}/{f}") for c, f, d in rows])
        out[part] = torch.from_numpy(images), torch.tensor([index[c] for c, _, _ in rows])
    log.info("cifar10: decoded %d image files from %s", len(members), source.name)
    save_cache(
        cache,
        {
            "train_x": out["train"][0],
            "train_y": out["train"][1],
            "test_x": out["test"][0],
            "test_y": out["test"][1],
            "names": "\n".join(names),
        },
    )
    return *out["train"], *out["test"], names
