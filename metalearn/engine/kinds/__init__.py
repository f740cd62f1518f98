"""The run kinds by name, and which kind a configuration runs as.

Every module of this package that defines a `RunKind` subclass with a `name` registers it: a
new kind is one new file here. Nothing here imports torch.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import TYPE_CHECKING, Any

from metalearn import catalog
from metalearn.config import ConfigError
from metalearn.engine.kinds.base import Context, RunKind, RunResult, Scores, episode_seed

if TYPE_CHECKING:
    from metalearn.config import RunConfig


def _discover() -> dict[str, RunKind]:
    found: dict[str, RunKind] = {}
    for module in pkgutil.iter_modules(__path__):
        mod = importlib.import_module(f"{__name__}.{module.name}")
        for value in vars(mod).values():
            if (
                isinstance(value, type)
                and issubclass(value, RunKind)
                and value.__module__ == mod.__name__
                and "name" in vars(value)
            ):
                found[value.name] = value()
    return found


KINDS: dict[str, RunKind] = _discover()


def kind_name(algorithm: str, dataset: str, hyper: dict[str, Any]) -> str:
    """The kind a run of `algorithm` on `dataset` is.

    Raises:
        ConfigError: unknown names, or an algorithm that does not do the dataset's task.
    """
    named = isinstance(algorithm, str) and isinstance(dataset, str)
    algo = catalog.algorithms().get(algorithm) if named else None
    data = catalog.datasets().get(dataset) if named else None
    if algo is None or data is None:
        raise ConfigError([f"unknown algorithm {algorithm!r} or dataset {dataset!r}"])
    mode = hyper.get(algo.mode_setting) if algo.mode_setting else None
    if mode is not None and mode in algo.kinds:
        return algo.kinds[mode]
    if data.task not in algo.kinds:
        raise ConfigError(
            [
                f"algorithm {algorithm!r} does not do {data.task} (dataset {dataset!r}); "
                f"it supports: {', '.join(algo.tasks)}"
            ]
        )
    return data.extra.get("kind") or algo.kinds[data.task]  # a kind's own dataset: that kind


def kind_of(cfg: RunConfig | dict[str, Any]) -> RunKind:
    """The kind of a configuration (a RunConfig, or a stored run's config as a dict)."""
    if isinstance(cfg, dict):
        hyper = {**cfg, **cfg.get("hyper", {}), **cfg.get("extra", {})}
        return KINDS[kind_name(cfg["algorithm"], cfg["dataset"], hyper)]
    return KINDS[kind_name(cfg.algorithm, cfg.dataset, cfg.hyper)]


__all__ = ["KINDS", "Context", "RunKind", "RunResult", "Scores", "episode_seed", "kind_of"]
