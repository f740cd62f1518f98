"""A frozen pretrained image backbone's features of a split, computed once and cached.

With `--backbone efficientnet_lite0 --finetune-encoder none` nothing below the features trains,
so every image's features are the same in every episode, run and method: they are computed once
per split's pixels and input size (on the run's device) and cached on disk under a digest of the
pixels, and the run's split holds them in place of its images (`FeatureSplit`). A frozen run on
a split seen before starts in about a second.

With `--finetune-encoder top` the same holds for the frozen trunk below the trained stages,
wherever a split's images never change (training without augmentation; testing without P>M>F's
augmented fine-tuning on each support set): the split holds the trunk's maps, and a training
step runs only the last two stages and the head (about a third of the network's work, less
with the backward pass that never reaches the trunk).
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
    TOP_STAGES,
    frozen_features,
    seen_in_pretraining,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from metalearn.config import RunConfig

log = logging.getLogger(__name__)


def cached_input(cfg: RunConfig, split: str) -> str | None:
    """What the run's network reads in place of split `split`'s images, computed once by the
    frozen part of a pretrained image backbone: "features" (frozen: the pooled features),
    "trunk" (top: the trunk's maps, where the split's images never change), or None (images)."""
    hyper = cfg.hyper
    if hyper.get("backbone") != LITE0:
        return None
    tuned = hyper.get("finetune_encoder", "none")
    if tuned == "none":
        return "features"
    varies = cfg.augment if split == "train" else bool(hyper.get("support_finetune_steps"))
    return "trunk" if tuned == "top" and not varies else None


def pixels_digest(
    images: torch.Tensor, labels: torch.Tensor, input_size: int, kind: str = "features"
) -> str:
    """A digest of uint8 images [N, C, H, W], their labels [N], the backbone, its input side and
    which of its outputs (`kind`: "features" or "trunk")."""
    h = hashlib.blake2b(digest_size=12)
    part = "" if kind == "features" else f"|{kind}{TOP_STAGES}"  # features' keys as before
    h.update(f"{LITE0}|{input_size}|{tuple(images.shape)}{part}".encode())
    h.update(memoryview(images.contiguous().numpy()).cast("B"))
    h.update(memoryview(labels.contiguous().numpy()).cast("B"))
    return h.hexdigest()


def cached_features(
    images: torch.Tensor,
    labels: torch.Tensor,
    input_size: int,
    device: torch.device | str = "cpu",
    progress: Callable[[int, int], None] | None = None,
    kind: str = "features",
) -> torch.Tensor:
    """The frozen backbone's features float [N, 1280] (`kind` "features") or its trunk's maps
    float16 [N, 112, h, w] ("trunk") of uint8 images [N, C, H, W], computed once
    (`progress(done, total)` meanwhile) and cached under a digest of the pixels."""
    key = f"{kind}-{pixels_digest(images, labels, input_size, kind)}.pt"
    cached = load_cache(key)
    if cached is not None:
        return cached["features"]
    started = time.perf_counter()
    trunk_only = kind == "trunk"
    features = frozen_features(images, input_size, device, progress=progress, trunk_only=trunk_only)
    save_cache(key, {"features": features})
    log.info(
        "%s %s of %d images at %d px in %.1f s (cached as %s)",
        LITE0,
        kind,
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
    kind: str = "features",
) -> FeatureSplit:
    """`split` with its images replaced by the frozen backbone's features float [N, 1280], or
    its trunk's maps [N, 112, h, w] (`kind` "trunk"; cached; `progress(done, total)` while they
    are computed)."""
    features = cached_features(split.images, split.labels, input_size, device, progress, kind)
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
