"""A frozen pretrained image backbone's features of a split, computed once and cached.

With `--backbone efficientnet_lite0 --finetune-encoder none` nothing below the features trains,
so every image's features are the same in every episode, run and method: they are computed once
per split's pixels and input size (on the run's device) and cached on disk under a digest of the
pixels, and the run's split holds them in place of its images (`FeatureSplit`). A frozen run on
a split seen before starts in about a second.
"""

from __future__ import annotations

import hashlib
import logging
import time
from typing import TYPE_CHECKING

import torch

from metalearn.data.base import FeatureSplit, Split, load_cache, save_cache
from metalearn.models.pretrained import (
    LITE0,
    PRETRAINED_ON,
    frozen_features,
    seen_in_pretraining,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from metalearn.config import RunConfig

log = logging.getLogger(__name__)


def reads_frozen_features(cfg: RunConfig) -> bool:
    """Whether the run's network reads a frozen pretrained image backbone's cached features."""
    hyper = cfg.hyper
    return hyper.get("backbone") == LITE0 and hyper.get("finetune_encoder", "none") == "none"


def pixels_digest(images: torch.Tensor, labels: torch.Tensor, input_size: int) -> str:
    """A digest of uint8 images [N, C, H, W], their labels [N], the backbone and its input side."""
    h = hashlib.blake2b(digest_size=12)
    h.update(f"{LITE0}|{input_size}|{tuple(images.shape)}".encode())
    h.update(memoryview(images.contiguous().numpy()).cast("B"))
    h.update(memoryview(labels.contiguous().numpy()).cast("B"))
    return h.hexdigest()


def cached_features(
    images: torch.Tensor,
    labels: torch.Tensor,
    input_size: int,
    device: torch.device | str = "cpu",
    progress: Callable[[int, int], None] | None = None,
) -> torch.Tensor:
    """The frozen backbone's features float [N, 1280] of uint8 images [N, C, H, W], computed
    once (`progress(done, total)` meanwhile) and cached under a digest of the pixels."""
    key = f"features-{pixels_digest(images, labels, input_size)}.pt"
    cached = load_cache(key)
    if cached is not None:
        return cached["features"]
    started = time.perf_counter()
    features = frozen_features(images, input_size, device, progress=progress)
    save_cache(key, {"features": features})
    log.info(
        "%s features of %d images at %d px in %.1f s (cached as %s)",
        LITE0,
        len(features),
        input_size,
        time.perf_counter() - started,
        key,
    )
    return features


def feature_split(
    split: Split,
    input_size: int,
    device: torch.device | str = "cpu",
    progress: Callable[[int, int], None] | None = None,
) -> FeatureSplit:
    """`split` with its images replaced by the frozen backbone's features float [N, 1280]
    (cached; `progress(done, total)` while they are computed)."""
    features = cached_features(split.images, split.labels, input_size, device, progress)
    return FeatureSplit(features, split.labels, split.class_names, pixels=split.images)


def pretraining_facts(cfg: RunConfig) -> dict[str, object]:
    """What a run on the pretrained image backbone reports about its test classes: what the
    weights were trained on, and whether the test split's classes are among them (its WordNet
    ids among ImageNet-1k's: miniImageNet's are; glyphs, Omniglot, CIFAR-10 and folders not
    named by WordNet ids are not). Empty for every other backbone."""
    if cfg.hyper.get("backbone") != LITE0:
        return {}
    from metalearn.data import DATASETS

    seen = seen_in_pretraining(DATASETS[cfg.dataset].class_keys(cfg.data_root, "test"))
    return {
        "pretrained_on": PRETRAINED_ON,
        "test_classes_seen_in_pretraining": bool(seen),
        "test_classes_seen": len(seen),
    }
