"""How long a run will take on a device, from what is known about it: its time budget, and the
finished runs on the same device (seconds per training episode, per test episode, and to load
the data) - of the very same shape where there is one, else (said as rough) of the same method,
data, image side and network in another episode shape. Never from another device or image side:
a GPU run says nothing about a CPU, nor a 42-pixel run about an 84-pixel one. Torch-free.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from metalearn.config import ConfigError, RunConfig

# What sets the seconds per episode: the spec fields, and the hyperparameters that change the
# work per episode (not those that only change its values, like a learning rate).
SHAPE_FIELDS = (
    "algorithm",
    "dataset",
    "image_size",
    "n_way",
    "n_shot",
    "n_query",
    "train_way",
    "train_shot",
    "train_query",
    "meta_batch",
    "augment",
)
SHAPE_HYPER = (
    "backbone",
    "inner_steps",
    "inner_steps_test",
    "batch_size",
    "first_order",
    "compile",
    "precision",
    "fce",
    "fce_steps",
    "finetune_epochs",
    "finetune_encoder",
    "finetune_mode",
    "input_size",  # the pretrained network's input side: (224 / 84)^2 = 7x the work of 84
    "inner_batch",
)


def rough_key(config: dict[str, Any], device: str) -> tuple:
    """The coarser key a rough estimate goes by: device, method, data, image side, network."""
    return (
        "rough",
        device,
        *(config.get(f) for f in SHAPE_FIELDS[:3]),
        config.get("hyper", {}).get("backbone"),
    )


def shape_key(config: dict[str, Any], device: str) -> tuple:
    """The fields of a run's stored config (`RunConfig.to_dict` form) that set its cost, and the
    device it runs on as the store names it (`engine.device.describe_device`: "cpu",
    "cuda (NVIDIA H100 80GB HBM3)")."""
    hyper = config.get("hyper", {})
    return (
        device,
        *(config.get(f) for f in SHAPE_FIELDS),
        *((h, hyper[h]) for h in SHAPE_HYPER if h in hyper),
    )


@dataclass(frozen=True)
class Rates:
    """Seconds per training episode, per test episode, and to load the data, measured on a
    finished run; `run_id` names it."""

    train: float
    test: float
    load: float
    run_id: str


def past_rates(runs: Iterable[dict[str, Any]]) -> dict[tuple, Rates]:
    """Each shape's rates (`shape_key`, and `rough_key`), from its latest completed run with a
    result, among `runs` (the store's rows, oldest first: `Store.list_runs`). The episodes
    counted are those trained (a run that met its time budget trained fewer than asked)."""
    rates: dict[tuple, Rates] = {}
    for run in runs:  # oldest first: the latest of a shape wins
        res = run["result"] or {}
        seconds, episodes = res.get("train_seconds"), res.get("train_episodes")
        if run["status"] != "completed" or not seconds or not episodes or not run["device"]:
            continue
        load = float(res.get("load_seconds") or 0.0)
        wall = (run["ended_at"] or 0.0) - (run["started_at"] or 0.0)
        tests = res.get("eval_episodes") or run["config"].get("eval_episodes") or 1
        rest = max(0.0, wall - seconds - load)  # testing, and starting up
        try:
            config = RunConfig.from_dict(dict(run["config"])).to_dict()  # today's form
        except ConfigError:
            continue
        device = str(run["device"]).removeprefix("ray ")
        rate = Rates(seconds / episodes, rest / tests, load, run["id"])
        rates[shape_key(config, device)] = rate
        rates[rough_key(config, device)] = rate
    return rates


@dataclass(frozen=True)
class Estimate:
    """A run's expected seconds, in parts; a part is None when nothing says how long it takes.

    Attributes:
        train: seconds of training (at most the time budget).
        test: seconds of testing (and starting up), None if unknown.
        load: seconds to load the data, None if unknown.
        budgeted: training ends at the time budget before its episodes are done.
        basis: the run the rates come from, None if only the budget is known.
        exact: the rates come from a run of the very same shape (else: a rough estimate).
    """

    train: float | None
    test: float | None
    load: float | None
    budgeted: bool
    basis: str | None
    exact: bool = False

    @property
    def total(self) -> float | None:
        """All parts' seconds, None if a part is unknown."""
        parts = (self.train, self.test, self.load)
        return None if any(p is None for p in parts) else sum(parts)


def estimate(cfg: RunConfig, device: str, rates: dict[tuple, Rates]) -> Estimate:
    """How long `cfg` takes on `device` (as `shape_key` names it), from `rates` (`past_rates`)
    and its time budget."""
    config, budget = cfg.to_dict(), cfg.max_seconds
    key = shape_key(config, device)
    exact = key in rates
    rate = rates.get(key) or rates.get(rough_key(config, device))
    if rate is None:
        return Estimate(budget, None, None, budget is not None, None)
    train = rate.train * cfg.episodes
    budgeted = budget is not None and budget < train
    train = min(train, budget) if budget is not None else train
    return Estimate(train, rate.test * cfg.eval_episodes, rate.load, budgeted, rate.run_id, exact)
