"""CIFAR in torchvision's on-disk format (the python pickles of the official archives), and
CIFAR-10 as image files (`cifar_images`).

- `cifar10`: <root>/cifar-10-batches-py/{data_batch_1..5, test_batch, batches.meta}, else
  <root>/cifar10-images/cifar10-images.zip or a folder of train/ and test/ class folders.
  Episodes use a class split (airplane..deer train, dog/frog validation, horse/ship/truck
  test) over all 60000 images; `load_standard` gives the usual 50000/10000 image split for the
  article's transfer pipeline.
- `cifar-fs` (Bertinetto et al. 2019): <root>/cifar-100-python/{train, test, meta}, 100 fine
  classes split 64 / 16 / 20, all 600 images of each class.
"""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path

import numpy as np
import torch

from metalearn.data import cifar_images
from metalearn.data.base import (
    DataError,
    Dataset,
    DatasetInfo,
    Split,
    data_root,
    load_cache,
    resize,
    save_cache,
    split_by_class,
)

NORM = {"mean": 0.5, "std": 0.5}  # the article's Normalize((0.5,)*3, (0.5,)*3)
ARCHIVES = {
    "cifar10": (
        "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
        "c58f30108f718f92721af3b95e74349a",
    ),
    "cifar-fs": (
        "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",
        "eb9058c3a382ffc7106e4002c42a8d85",
    ),
}
CIFAR10_SPLIT = {"train": [0, 1, 2, 3, 4], "val": [5, 6], "test": [7, 8, 9]}
# Bertinetto et al. 2019 (R2D2) class split of CIFAR-100; training is the other 64 classes.
CIFAR_FS_VAL = (
    "otter motorcycle television lamp crocodile shark butterfly beaver beetle tractor flatfish "
    "maple_tree camel crab sea cattle"
).split()
CIFAR_FS_TEST = (
    "baby bed bicycle chimpanzee fox leopard man pickup_truck plain poppy rocket rose snail "
    "sweet_pepper table telephone wardrobe whale woman worm"
).split()


def _unpickle(path: Path) -> dict:
    try:
        with open(path, "rb") as f:
            return pickle.load(f, encoding="latin1")
    except FileNotFoundError as err:
        raise DataError(f"missing file {path}") from err
    except Exception as err:
        raise DataError(f"cannot read {path} as a CIFAR pickle: {err}") from err


def _to_images(data: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.asarray(data, dtype=np.uint8).reshape(-1, 3, 32, 32).copy())


def _folder(root: str | None, name: str) -> Path:
    sub = "cifar-10-batches-py" if name == "cifar10" else "cifar-100-python"
    folder = data_root(root) / sub
    needed = (
        ["batches.meta", "test_batch"] + [f"data_batch_{i}" for i in range(1, 6)]
        if name == "cifar10"
        else ["meta", "train", "test"]
    )
    missing = [n for n in needed if not (folder / n).is_file()]
    if missing:
        images = " (or cifar10-images/cifar10-images.zip, or train/ and test/ class folders)"
        raise DataError(
            f"{name}: {', '.join(missing)} not found in {folder}"
            f"{images if name == 'cifar10' else ''}. Extract the official archive "
            f"({ARCHIVES[name][0].rsplit('/', 1)[1]}) under the data root, or download it when "
            "online."
        )
    return folder


def _image_copy(root: str | None) -> Path | None:
    """CIFAR-10 as image files under the data root, where its pickles' folder is absent."""
    if (data_root(root) / "cifar-10-batches-py").is_dir():
        return None
    return cifar_images.find(data_root(root))


def download(root: str | None, name: str) -> None:
    from torchvision.datasets.utils import download_and_extract_archive

    url, md5 = ARCHIVES[name]
    try:
        download_and_extract_archive(url, str(data_root(root)), md5=md5)
    except Exception as err:
        raise DataError(f"{name}: download of {url} failed ({err}); are you online?") from err


def load_standard(
    root: str | None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, list[str]]:
    """CIFAR-10's own image split: (train uint8 [N,3,32,32], labels, test images, labels, names)."""
    if images := _image_copy(root):
        return cifar_images.load(images)
    folder = _folder(root, "cifar10")
    names = _unpickle(folder / "batches.meta")["label_names"]
    parts = [_unpickle(folder / f"data_batch_{i}") for i in range(1, 6)]
    train_x = torch.cat([_to_images(p["data"]) for p in parts])
    train_y = torch.tensor(sum((list(p["labels"]) for p in parts), []))
    test = _unpickle(folder / "test_batch")
    return train_x, train_y, _to_images(test["data"]), torch.tensor(test["labels"]), names


def _pooled(root: str | None, name: str) -> tuple[torch.Tensor, torch.Tensor, list[str]]:
    """All images of the archive (train and test parts) with fine labels; cached."""
    if name == "cifar10" and (images := _image_copy(root)):  # image files, cached apart
        tx, ty, vx, vy, names = cifar_images.load(images)
        return torch.cat([tx, vx]), torch.cat([ty, vy]), names
    folder = _folder(root, name)
    stamp = "|".join(f"{p.name}:{p.stat().st_mtime_ns}" for p in sorted(folder.iterdir()))
    key = f"{name}-{hashlib.sha1((str(folder.resolve()) + stamp).encode()).hexdigest()[:12]}.pt"
    cached = load_cache(key)
    if cached is not None:
        return cached["images"], cached["labels"], cached["names"].split("\n")
    if name == "cifar10":
        tx, ty, vx, vy, names = load_standard(root)
        images, labels = torch.cat([tx, vx]), torch.cat([ty, vy])
    else:
        names = _unpickle(folder / "meta")["fine_label_names"]
        parts = [_unpickle(folder / p) for p in ("train", "test")]
        images = torch.cat([_to_images(p["data"]) for p in parts])
        labels = torch.tensor(sum((list(p["fine_labels"]) for p in parts), []))
    save_cache(key, {"images": images, "labels": labels, "names": "\n".join(names)})
    return images, labels, names


def _split_classes(name: str, names: list[str]) -> dict[str, list[int]]:
    if name == "cifar10":
        return CIFAR10_SPLIT
    index = {n: i for i, n in enumerate(names)}
    missing = [n for n in CIFAR_FS_VAL + CIFAR_FS_TEST if n not in index]
    if missing:
        raise DataError(f"cifar-fs: CIFAR-100 meta lacks the classes {', '.join(missing)}")
    val, test = [index[n] for n in CIFAR_FS_VAL], [index[n] for n in CIFAR_FS_TEST]
    train = [i for i in range(len(names)) if i not in set(val + test)]
    return {"train": train, "val": val, "test": test}


class _Cifar(Dataset):
    @classmethod
    def download(cls, root: str | None) -> None:
        download(root, cls.name)

    @classmethod
    def describe(cls, root: str | None) -> DatasetInfo:
        _, labels, names = _pooled(root, cls.name)
        counts = torch.bincount(labels, minlength=len(names))
        splits = {
            s: (len(k), int(counts[torch.tensor(k)].min()) if k else 0)
            for s, k in _split_classes(cls.name, names).items()
        }
        return DatasetInfo(cls.name, cls.task, 3, 32, splits, **NORM)

    @classmethod
    def load(cls, root: str | None, split: str, image_size: int | None = None) -> Split:
        images, labels, names = _pooled(root, cls.name)
        images = resize(images, image_size)
        return split_by_class(images, labels, names, _split_classes(cls.name, names)[split], **NORM)


class Cifar10(_Cifar):
    name = "cifar10"
    standard_split = True  # its own train/test images: the whole-dataset pipeline runs on it
    summary = "CIFAR-10 (the article's transfer example): 10 classes of 32x32 colour photos."
    how_to_get = "Extract `cifar-10-python.tar.gz` under the data root, or download it when online."


class CifarFS(_Cifar):
    name = "cifar-fs"
    summary = "CIFAR-FS (Bertinetto et al. 2019): CIFAR-100 split 64/16/20 classes, 32x32."
    how_to_get = (
        "Extract `cifar-100-python.tar.gz` under the data root, or download it when online."
    )
