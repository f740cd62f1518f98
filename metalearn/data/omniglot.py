"""`omniglot` (Lake et al. 2015): 1623 handwritten characters x 20 drawers, read from the original
`images_background` / `images_evaluation` layout, as folders or as the two zips.

Splits: Lake's by default (background alphabets for training and validation, evaluation alphabets
for test). When `omniglot-py/splits/vinyals/{train,val,test}.txt` exist, the Vinyals et al. 2016
split used by the ProtoNet and MAML papers: each character rotated by 0/90/180/270 degrees is a
class of its own. Images are resized to 28x28 with ink = 1, and cached as a uint8 tensor after the
first load (later loads take well under 2 s).
"""

from __future__ import annotations

import hashlib
import logging
import zipfile
from collections import defaultdict
from pathlib import Path

import torch

from metalearn.data.base import (
    DataError,
    Dataset,
    DatasetInfo,
    Split,
    data_root,
    load_cache,
    resize,
    save_cache,
)
from metalearn.data.images import decode

log = logging.getLogger(__name__)

PARTS = ("images_background", "images_evaluation")
# The official archives, as torchvision lists them.
URLS = {
    "images_background": (
        "https://raw.githubusercontent.com/brendenlake/omniglot/master/python/"
        "images_background.zip",
        "68d2efa1b9178cc56df9314c21c6e718",
    ),
    "images_evaluation": (
        "https://raw.githubusercontent.com/brendenlake/omniglot/master/python/"
        "images_evaluation.zip",
        "6b91aef0f799c5bb55b94e3f2daec811",
    ),
}
SIZE = 28
VAL_EVERY = 6  # Lake split: every 6th background alphabet (sorted) is held out for validation


def _base(root: str | None) -> Path:
    return data_root(root) / "omniglot-py"


def _sources(root: str | None) -> dict[str, Path]:
    """Where each part lives: its extracted folder if present, else its zip."""
    base = _base(root)
    found = {}
    for part in PARTS:
        if (base / part).is_dir():
            found[part] = base / part
        elif (base / f"{part}.zip").is_file():
            found[part] = base / f"{part}.zip"
    missing = [p for p in PARTS if p not in found]
    if missing:
        raise DataError(
            f"omniglot: {', '.join(missing)} not found under {base} (need each as a folder or a "
            f".zip). Set the data root to the folder that holds omniglot-py/ (or METALEARN_DATA), "
            f"or download it when online."
        )
    return found


def _files(source: Path) -> list[tuple[str, str]]:
    """(Alphabet/characterNN, relative file path) for every PNG of one part, sorted."""
    if source.is_dir():
        rel = [p.relative_to(source).as_posix() for p in source.glob("*/*/*.png")]
    else:
        with zipfile.ZipFile(source) as zf:
            rel = [n.split("/", 1)[1] for n in zf.namelist() if n.endswith(".png")]
    return sorted((r.rsplit("/", 1)[0], r) for r in rel)


def _characters(root: str | None) -> dict[str, list[str]]:
    """part -> sorted character keys, read from file listings only (no decoding)."""
    return {p: sorted({c for c, _ in _files(s)}) for p, s in _sources(root).items()}


def _vinyals(root: str | None) -> dict[str, list[str]] | None:
    folder = _base(root) / "splits" / "vinyals"
    if not all((folder / f"{s}.txt").is_file() for s in ("train", "val", "test")):
        return None
    return {s: (folder / f"{s}.txt").read_text().split() for s in ("train", "val", "test")}


def _lake(chars: dict[str, list[str]]) -> dict[str, list[str]]:
    background = chars["images_background"]
    alphabets = sorted({c.split("/")[0] for c in background})
    val_alphabets = set(alphabets[VAL_EVERY - 1 :: VAL_EVERY])
    return {
        "train": [c for c in background if c.split("/")[0] not in val_alphabets],
        "val": [c for c in background if c.split("/")[0] in val_alphabets],
        "test": chars["images_evaluation"],
    }


def download(root: str | None) -> None:
    """Fetches and extracts the official archives (md5-checked) into <root>/omniglot-py."""
    from torchvision.datasets.utils import download_and_extract_archive

    base = _base(root)
    for part, (url, md5) in URLS.items():
        if (base / part).is_dir():
            continue
        try:
            download_and_extract_archive(url, str(base), md5=md5)
        except Exception as err:
            raise DataError(f"omniglot: download of {url} failed ({err}); are you online?") from err


def _decode_all(root: str | None) -> tuple[torch.Tensor, list[str]]:
    """All characters: uint8 [n_chars, 20, 1, 28, 28] and their keys, cached."""
    sources = _sources(root)
    stamp = "|".join(f"{s.resolve()}:{s.stat().st_mtime_ns}" for s in sources.values())
    name = f"omniglot-{hashlib.sha1(stamp.encode()).hexdigest()[:12]}-{SIZE}.pt"
    cached = load_cache(name)
    if cached is not None:
        return cached["images"], cached["keys"].split("\n")
    log.info("decoding Omniglot PNGs (first load only; cached afterwards)")
    by_char: dict[str, list[torch.Tensor]] = defaultdict(list)
    for part, source in sources.items():
        files = _files(source)
        if source.is_dir():
            for char, rel in files:
                by_char[char].append(decode((source / rel).read_bytes(), 1, SIZE, ink=True))
        else:
            with zipfile.ZipFile(source) as zf:
                for char, rel in files:
                    by_char[char].append(decode(zf.read(f"{part}/{rel}"), 1, SIZE, ink=True))
    keys = sorted(by_char)
    per = min(len(v) for v in by_char.values())
    images = torch.stack([torch.stack(by_char[k][:per]) for k in keys])
    save_cache(name, {"images": images, "keys": "\n".join(keys)})
    return images, keys


class Omniglot(Dataset):
    name = "omniglot"
    drawings = True

    @classmethod
    def download(cls, root: str | None) -> None:
        download(root)

    summary = "Omniglot: 1623 handwritten characters from 50 alphabets, 20 drawings each, 28x28."
    how_to_get = (
        "Put `images_background(.zip)` and `images_evaluation(.zip)` in "
        "`<data root>/omniglot-py/` (optionally `splits/vinyals/*.txt`), or download it (a "
        "setting of a run) when online."
    )

    @classmethod
    def _class_lists(cls, root: str | None) -> dict[str, list[str]]:
        chars = _characters(root)
        return _vinyals(root) or _lake(chars)

    @classmethod
    def describe(cls, root: str | None) -> DatasetInfo:
        lists = cls._class_lists(root)
        return DatasetInfo(
            cls.name, cls.task, 1, SIZE, {s: (len(v), 20) for s, v in lists.items()}, ink=True
        )

    @classmethod
    def load(cls, root: str | None, split: str, image_size: int | None = None) -> Split:
        images, keys = _decode_all(root)
        index = {k: i for i, k in enumerate(keys)}
        names = cls._class_lists(root)[split]
        try:
            rows = [index[n.rsplit("/rot", 1)[0] if "/rot" in n else n] for n in names]
        except KeyError as err:
            raise DataError(
                f"omniglot: split lists character {err} missing from the images"
            ) from err
        picked = images[torch.tensor(rows)]  # [classes, 20, 1, 28, 28]
        rot = [int(n.rsplit("/rot", 1)[1]) // 90 if "/rot" in n else 0 for n in names]
        if any(rot):
            picked = picked.clone()
            for k in (1, 2, 3):  # rotate all classes of each angle at once
                sel = torch.tensor([r == k for r in rot])
                picked[sel] = torch.rot90(picked[sel], k, dims=(-2, -1))
        picked = resize(picked, image_size)
        per = picked.shape[1]
        labels = torch.arange(len(names)).repeat_interleave(per)
        return Split(picked.reshape(-1, *picked.shape[2:]).contiguous(), labels, list(names))
