"""An algorithm built for a configuration: its class from the registry, its dataset's
description, the run's seed for initialisation."""

from __future__ import annotations

import torch

from metalearn.algorithms import ALGORITHMS, Algorithm
from metalearn.config import RunConfig
from metalearn.engine.kinds import kind_of
from metalearn.engine.validate import resolve


def build_algorithm(cfg: RunConfig, n_train_classes: int) -> Algorithm:
    """A freshly initialised algorithm (model initialisation follows the run's seed)."""
    cfg = resolve(cfg)
    info = kind_of(cfg).describe(cfg)
    torch.manual_seed(cfg.seed)
    return ALGORITHMS[cfg.algorithm](cfg, info, n_train_classes)
