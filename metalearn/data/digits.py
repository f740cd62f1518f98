"""`digits`: scikit-learn's bundled handwritten digits (UCI, 1797 8x8 images), real data with no
download. Only 10 classes, so the class split is small: digits 0-4 train, 5-6 validation, 7-9 test.
"""

from __future__ import annotations

import torch

from metalearn.data.base import (
    Dataset,
    DatasetInfo,
    Split,
    counts_info,
    resize,
    split_by_class,
)

SPLIT = {"train": [0, 1, 2, 3, 4], "val": [5, 6], "test": [7, 8, 9]}
SIZE = 28


def _all() -> tuple[torch.Tensor, torch.Tensor]:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = torch.from_numpy(bunch.images).float()[:, None] * (255.0 / 16.0)  # ink = 255
    return images, torch.from_numpy(bunch.target).long()


class Digits(Dataset):
    name = "digits"
    needs_root = False
    summary = "scikit-learn digits: 10 classes, ~180 real 8x8 scans each (upscaled), no download."
    how_to_get = "Always available: ships with scikit-learn."

    @classmethod
    def describe(cls, root: str | None) -> DatasetInfo:
        _, labels = _all()
        return DatasetInfo(
            cls.name,
            cls.task,
            1,
            SIZE,
            {s: counts_info(labels, k) for s, k in SPLIT.items()},
            ink=True,
        )

    @classmethod
    def load(cls, root: str | None, split: str, image_size: int | None = None) -> Split:
        images, labels = _all()
        images = resize(images.round().to(torch.uint8), image_size or SIZE)
        return split_by_class(images, labels, [str(d) for d in range(10)], SPLIT[split])
