"""`miniimagenet`: miniImageNet (Vinyals et al. 2016) in the class split of Ravi & Larochelle
(2017), the field's few-shot benchmark: 64 train / 16 validation / 20 test classes of 600 photos,
84x84 RGB.

Found under the data root in any of three layouts:

- the zip `miniimagenet-images/miniimagenet-images.zip` (or `miniimagenet-images.zip`), holding
  `<top>/{train,val,test}/<wnid>/<file>.jpg`;
- the same folders extracted (`[miniimagenet-images/[miniimagenet-images/]]{train,val,test}/`);
- the original release: `images/` beside `{train,val,test}.csv` (rows `filename,label`), at the
  root or under `miniimagenet/` (full-size photos are resized to 84x84).

Readable class names come from `class_names.tsv` (`split, wnid, name`) beside the zip or in the
folder; without it the WordNet ids are shown.

The photos are decoded once (about 10 s for the 60,000 JPEGs on 2 cores) into a uint8 array file
in the cache (`cache_dir()`), which every run memory-maps: the runs and workers on a machine share
the operating system's one copy of the 1.3 GB of pixels instead of each holding its own. Another
image size is resized once from it and cached the same way. In the cache, images are ordered by
split, then class (WordNet id), then file name.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import os
import re
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from metalearn.data.base import (
    SPLITS,
    DataError,
    Dataset,
    DatasetInfo,
    Progress,
    Split,
    cache_dir,
    data_root,
    resize,
)
from metalearn.data.images import decode, inside

if TYPE_CHECKING:
    from metalearn.config import RunConfig

log = logging.getLogger(__name__)

SIDE = 84
NORM = {"mean": 0.5, "std": 0.5}
NAMES = "miniimagenet-images"  # the folder and zip name the data root is searched for
MEMBER = re.compile(r"(?:^|/)(train|val|test)/([^/]+)/([^/]+\.(?:jpe?g|png))$", re.IGNORECASE)
CHUNK = 2000  # images decoded (or resized) per step, so progress can be reported


@dataclass(frozen=True)
class Source:
    """Where the images are: `kind` is "zip", "folders" (train/val/test class folders) or "csv"
    (the original `images/` + split CSVs); `names` is the class-name table, if any."""

    kind: str
    path: Path
    names: Path | None

    def stamp(self) -> str:
        """Identifies this copy for the cache: path, size and modification time."""
        parts = [self.path / "train.csv"] if self.kind == "csv" else [self.path]
        stats = [(p.resolve(), p.stat().st_size, p.stat().st_mtime_ns) for p in parts]
        return "|".join(map(str, [self.kind, *stats]))


def find(root: Path) -> Source | None:
    """The miniImageNet copy under a data root, or None."""
    for zipped in (root / NAMES / f"{NAMES}.zip", root / f"{NAMES}.zip"):
        if zipped.is_file():
            return Source("zip", zipped, _names_file(zipped.parent))
    for folder in (root / NAMES / NAMES, root / NAMES, root):
        if all((folder / s).is_dir() for s in SPLITS):
            return Source("folders", folder, _names_file(folder, folder.parent))
    for folder in (root, root / "miniimagenet", root / "miniImagenet"):
        if (folder / "images").is_dir() and all((folder / f"{s}.csv").is_file() for s in SPLITS):
            return Source("csv", folder, _names_file(folder))
    return None


def _names_file(*folders: Path) -> Path | None:
    return next((f / "class_names.tsv" for f in folders if (f / "class_names.tsv").is_file()), None)


def class_names(source: Source) -> dict[str, str]:
    """WordNet id -> readable name ("house_finch" reads "house finch"); empty without a table."""
    if source.names is None:
        return {}
    out = {}
    with open(source.names, newline="", encoding="utf-8") as f:
        for row in csv.reader(f, delimiter="\t"):
            if len(row) >= 3 and row[1] != "wnid":
                out[row[1]] = row[2].replace("_", " ").strip()
    return out


# -- what the copy holds ------------------------------------------------------------------------
Listing = dict[str, dict[str, list[str]]]  # split -> WordNet id -> member names (sorted)


def _listing(source: Source) -> Listing:
    """Every image of the copy by split and class, file names sorted."""
    out: Listing = {s: {} for s in SPLITS}
    if source.kind == "zip":
        try:
            with zipfile.ZipFile(source.path) as archive:
                names = archive.namelist()
        except (zipfile.BadZipFile, OSError) as err:
            name = source.path.name
            raise DataError(f"miniimagenet: cannot read {name} as a zip ({err})") from None
        for name in names:
            if m := MEMBER.search(name):
                out[m.group(1).lower()].setdefault(m.group(2), []).append(name)
    elif source.kind == "folders":
        for s in SPLITS:
            for path in (source.path / s).glob("*/*"):
                rel = path.relative_to(source.path).as_posix()
                if path.is_file() and inside(path, source.path) and MEMBER.search(rel):
                    out[s].setdefault(path.parent.name, []).append(rel)
    else:
        for s in SPLITS:
            with open(source.path / f"{s}.csv", newline="") as f:
                rows = [r for r in csv.reader(f) if len(r) >= 2 and r[0] != "filename"]
            for filename, label in rows:
                if not inside(source.path / "images" / filename, source.path):
                    raise DataError(f"miniimagenet: {s}.csv names {filename!r}, outside the root")
                out[s].setdefault(label, []).append(f"images/{filename}")
    for classes in out.values():
        for files in classes.values():
            files.sort()
    empty = [s for s in SPLITS if not out[s]]
    if empty:
        raise DataError(
            f"miniimagenet: {source.path.name} holds no images for {', '.join(empty)}; expected "
            "train/, val/ and test/ folders of class folders (or images/ with the split CSVs)"
        )
    return {s: dict(sorted(c.items())) for s, c in out.items()}


def _index(source: Source) -> dict:
    """The copy's classes and counts (what `describe` needs), cached beside the pixels."""
    return _index_of(source, source.stamp())


@lru_cache(maxsize=8)
def _index_of(source: Source, stamp: str) -> dict:
    key = hashlib.sha1(stamp.encode()).hexdigest()[:12]
    path = cache_dir() / f"miniimagenet-{key}.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        pass
    listing = _listing(source)
    index = {
        "key": key,
        "classes": {s: list(c) for s, c in listing.items()},
        "counts": {s: [len(v) for v in c.values()] for s, c in listing.items()},
    }
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    tmp.write_text(json.dumps(index))
    os.replace(tmp, path)
    return index


# -- the pixels, decoded once and memory-mapped -------------------------------------------------
def _write_array(
    path: Path, n: int, side: int, fill: Callable[[int, int], np.ndarray], progress: Progress | None
) -> None:
    """Writes uint8 [n, 3, side, side] into the array file `path`, rows `start:stop` from
    `fill(start, stop)`, a chunk at a time; written aside, then renamed (a crash never leaves a
    half-written cache behind)."""
    tmp = path.with_suffix(f".tmp{os.getpid()}.npy")
    out = np.lib.format.open_memmap(tmp, "w+", np.uint8, (n, 3, side, side))
    try:
        for start in range(0, n, CHUNK):
            stop = min(n, start + CHUNK)
            out[start:stop] = fill(start, stop)
            if progress:
                progress(stop, n)
        out.flush()
        del out
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _decode_all(source: Source, path: Path, progress: Progress | None) -> None:
    """Decodes every image at 84x84 into the array file `path`."""
    listing = _listing(source)
    members = [m for s in SPLITS for files in listing[s].values() for m in files]
    archive = zipfile.ZipFile(source.path) if source.kind == "zip" else None
    try:
        with ThreadPoolExecutor(os.cpu_count() or 1) as pool:  # Pillow decodes without the GIL

            def decoded(start: int, stop: int) -> np.ndarray:
                names = members[start:stop]
                data = [archive.read(n) if archive else source.path / n for n in names]
                return np.stack(list(pool.map(_decode, names, data)))

            _write_array(path, len(members), SIDE, decoded, progress)
    finally:
        if archive:
            archive.close()
    log.info("miniimagenet: decoded %d images from %s", len(members), source.path.name)


def _decode(name: str, data: bytes | Path) -> np.ndarray:
    try:
        return decode(data, 3, SIDE).numpy()
    except DataError as err:  # a zip member's bytes have no name of their own: give it
        raise DataError(f"miniimagenet: {name}: {err}") from None


def _resize_all(full: np.ndarray, size: int, path: Path, progress: Progress | None) -> None:
    """The 84x84 array resized to `size` (antialiased bilinear, as `base.resize`)."""

    def resized(start: int, stop: int) -> np.ndarray:
        return resize(torch.from_numpy(np.ascontiguousarray(full[start:stop])), size).numpy()

    _write_array(path, len(full), size, resized, progress)


def pixels(source: Source, size: int = SIDE, progress: Progress | None = None) -> np.ndarray:
    """All images, uint8 [N, 3, size, size], memory-mapped from the cache (decoded on first use).

    Args:
        source: the copy (`find`).
        size: image side; other sizes than 84 are resized once from the 84x84 cache.
        progress: called with (images done, images in all) while decoding or resizing.
    """
    key = _index(source)["key"]
    path = cache_dir() / f"miniimagenet-{key}-{size}.npy"
    if not path.exists():
        if size == SIDE:
            _decode_all(source, path, progress)
        else:
            _resize_all(pixels(source, SIDE, progress), size, path, progress)
    return _mapped(path, path.stat().st_mtime_ns)


@lru_cache(maxsize=4)
def _mapped(path: Path, stamp: int) -> np.ndarray:
    """One mapping per cache file and process. Copy-on-write: its pages are the operating
    system's one copy of the file, shared with every other process that maps it, until written
    (never)."""
    return np.load(path, mmap_mode="c")


def _source(root: str | None) -> Source:
    base = data_root(root)
    if (source := find(base)) is None:
        raise DataError(
            f"miniimagenet: no copy found under {base}: expected {NAMES}/{NAMES}.zip, "
            "train/ val/ test/ class folders, or images/ with train.csv, val.csv and test.csv"
        )
    return source


class MiniImageNet(Dataset):
    name = "miniimagenet"
    summary = (
        "miniImageNet (Vinyals et al. 2016, Ravi & Larochelle split): 64/16/20 classes of 600 "
        "photos, 84x84 - the field's few-shot benchmark."
    )
    how_to_get = (
        "Put `miniimagenet-images/miniimagenet-images.zip` (`train/` `val/` `test/` class "
        "folders of JPEGs) or the original `images/` + `train.csv` `val.csv` `test.csv` under the "
        "data root."
    )

    @classmethod
    def describe(cls, root: str | None) -> DatasetInfo:
        counts = _index(_source(root))["counts"]
        splits = {s: (len(counts[s]), min(counts[s], default=0)) for s in SPLITS}
        return DatasetInfo(cls.name, cls.task, 3, SIDE, splits, **NORM)

    @classmethod
    def load_for(cls, cfg: RunConfig, split: str, progress: Progress | None = None) -> Split:
        return cls.load(cfg.data_root, split, cfg.image_size, progress)

    @classmethod
    def class_keys(cls, root: str | None, split: str) -> list[str]:
        return list(_index(_source(root))["classes"][split])

    @classmethod
    def load(
        cls,
        root: str | None,
        split: str,
        image_size: int | None = None,
        progress: Progress | None = None,
    ) -> Split:
        source = _source(root)
        index = _index(source)
        images = pixels(source, image_size or SIDE, progress)
        sizes = {s: sum(index["counts"][s]) for s in SPLITS}
        start = sum(sizes[s] for s in SPLITS[: SPLITS.index(split)])
        counts = torch.tensor(index["counts"][split])
        labels = torch.repeat_interleave(torch.arange(len(counts)), counts)
        readable = class_names(source)
        wnids = index["classes"][split]
        names = [readable.get(w, w) for w in wnids]
        if len(set(names)) < len(names):  # two classes read alike: keep them apart
            twice = {n for n in names if names.count(n) > 1}
            names = [f"{n} ({w})" if n in twice else n for n, w in zip(names, wnids, strict=True)]
        view = torch.from_numpy(images[start : start + sizes[split]])  # no copy: still mapped
        return Split(view, labels, names, **NORM)
