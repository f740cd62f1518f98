"""`folder`: a user's own images, `<root>/<class name>/*.png|jpg`, or miniImageNet.

Classes of a plain tree are split 60/20/20 (train/val/test) by a fixed shuffle of their sorted
names. When `<root>/{train,val,test}.csv` exist (Ravi & Larochelle's miniImageNet split: rows of
`filename,label`, images in `<root>/images/`), that split is used and images default to 84x84.
Images are RGB; decoded tensors are cached, keyed by the file listing.
"""

from __future__ import annotations

import csv
import hashlib
import random
from pathlib import Path

import torch

from metalearn.data.base import (
    SPLITS,
    DataError,
    Dataset,
    DatasetInfo,
    Split,
    data_root,
    load_cache,
    save_cache,
)
from metalearn.data.images import decode, inside, list_images

DEFAULT_SIZE, MINI_SIZE = 32, 84
NORM = {"mean": 0.5, "std": 0.5}


def _layout(root: str | None) -> tuple[dict[str, dict[str, list[Path]]], int]:
    """split -> class -> image paths, and the default image size."""
    base = data_root(root)
    if not base.is_dir():
        raise DataError(
            f"folder: {base} is not a folder; set the data root to a folder of class folders"
        )
    if all((base / f"{s}.csv").is_file() for s in SPLITS):
        out: dict[str, dict[str, list[Path]]] = {}
        for s in SPLITS:
            with open(base / f"{s}.csv", newline="") as f:
                rows = [r for r in csv.reader(f) if r and r[0] != "filename"]
            classes: dict[str, list[Path]] = {}
            for filename, label in rows:
                path = base / "images" / filename
                if not inside(path, base):  # e.g. "../../x.png", or a link out of the root
                    raise DataError(f"folder: {s}.csv names {filename!r}, outside the data root")
                classes.setdefault(label, []).append(path)
            out[s] = classes
        return out, MINI_SIZE
    classes = {
        d.name: list_images(d, base)
        for d in sorted(base.iterdir())
        if d.is_dir() and inside(d, base)  # a class folder linked from elsewhere is not read
    }
    classes = {k: v for k, v in classes.items() if v}
    if len(classes) < 3:
        raise DataError(
            f"folder: {base} holds {len(classes)} class folder(s) with images; need at least 3 "
            "(one per split), laid out as <root>/<class name>/*.png|jpg"
        )
    names = sorted(classes)
    random.Random(0).shuffle(names)
    n_val = max(1, round(0.2 * len(names)))
    n_test = max(1, round(0.2 * len(names)))
    n_train = len(names) - n_val - n_test
    parts = {
        "train": names[:n_train],
        "val": names[n_train : n_train + n_val],
        "test": names[n_train + n_val :],
    }
    return {s: {n: classes[n] for n in sorted(v)} for s, v in parts.items()}, DEFAULT_SIZE


class Folder(Dataset):
    name = "folder"
    summary = "Your own images: <root>/<class name>/*.png|jpg (or miniImageNet with its csv split)."
    how_to_get = "Set the data root to a folder with one sub-folder of images per class."

    @classmethod
    def describe(cls, root: str | None) -> DatasetInfo:
        layout, size = _layout(root)
        splits = {
            s: (len(c), min((len(v) for v in c.values()), default=0)) for s, c in layout.items()
        }
        return DatasetInfo(cls.name, cls.task, 3, size, splits, **NORM)

    @classmethod
    def class_keys(cls, root: str | None, split: str) -> list[str]:
        return list(_layout(root)[0][split])

    @classmethod
    def load(cls, root: str | None, split: str, image_size: int | None = None) -> Split:
        layout, default = _layout(root)
        size = image_size or default
        classes = layout[split]
        files = [(c, p) for c, paths in classes.items() for p in paths]
        stamp = "|".join(f"{p}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for _, p in files)
        key = f"folder-{hashlib.sha1(stamp.encode()).hexdigest()[:16]}-{size}.pt"
        cached = load_cache(key)
        if cached is None:
            images = torch.stack([decode(p, 3, size) for _, p in files])
            cached = {"images": images}
            save_cache(key, cached)
        names = list(classes)
        index = {n: i for i, n in enumerate(names)}
        labels = torch.tensor([index[c] for c, _ in files])
        return Split(cached["images"], labels, names, **NORM)
