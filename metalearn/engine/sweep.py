"""Sweeps: a named grid of runs over algorithms x seeds x shots (and way, dataset, backbone) on
otherwise identical settings, launched as one group, stopped and resumed as one.

A sweep's plan is plain JSON (`SweepPlan.to_dict`), the same whether it comes from the CLI's
flags, a grid file (`--grid`) or the dashboard's Sweep form. Torch-free.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import Any

from metalearn import catalog
from metalearn.config import SPEC, ConfigError, RunConfig
from metalearn.engine.estimate import estimate, past_rates
from metalearn.engine.validate import make_config, validate
from metalearn.store import Store

# The settings a sweep may vary, with the CLI flag that lists their values.
AXES: dict[str, str] = {
    "algorithm": "--algorithms",
    "seed": "--seeds",
    "n_shot": "--n-shot",
    "n_way": "--n-way",
    "dataset": "--dataset",
    "backbone": "--backbone",
}
MAX_RUNS = 512  # a grid larger than this is almost surely a typo
EXECUTORS = ("local", "ray")


@dataclass
class SweepPlan:
    """A grid: the values of each axis, and the settings every run shares.

    Attributes:
        name: a human name ("protonet vs maml over K").
        axes: setting name (one of `AXES`) -> the values it takes; the runs are their product.
        settings: every other setting given, shared by all runs (an algorithm's own setting
            goes to the algorithms that read it).
        executor: "local" (worker processes on this machine) or "ray".
        ray: the Ray executor's options (address, cpus_per_run, gpus_per_run).
        tracking: the tracking mirrors for its runs (`metalearn.engine.trackers.TRACKING`).
    """

    name: str = ""
    axes: dict[str, list[Any]] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    executor: str = "local"
    ray: dict[str, Any] = field(default_factory=dict)
    tracking: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "axes": self.axes,
            "settings": self.settings,
            "executor": self.executor,
            "ray": self.ray,
            "tracking": self.tracking,
        }

    @classmethod
    def from_dict(cls, data: Any) -> SweepPlan:
        """Reads a plan (a grid file's JSON object).

        Raises:
            ConfigError: not an object, unknown keys or axes, axes that are not lists.
        """
        if not isinstance(data, dict):
            raise ConfigError([f"a sweep grid must be a JSON object, got {type(data).__name__}"])
        known = {"name", "axes", "settings", "executor", "ray", "tracking"}
        out = [
            f"unknown key {k!r} in the sweep grid; keys: {', '.join(sorted(known))}"
            for k in data
            if k not in known
        ]
        axes = data.get("axes", {})
        settings = data.get("settings", {})
        if not isinstance(axes, dict):
            out.append("axes must be an object: setting name -> list of values")
            axes = {}
        if not isinstance(settings, dict):
            out.append("settings must be an object of shared settings")
            settings = {}
        if out:
            raise ConfigError(out)
        return cls(
            str(data.get("name") or ""),
            {k: v if isinstance(v, list) else [v] for k, v in axes.items()},
            settings,
            str(data.get("executor") or "local"),
            dict(data.get("ray") or {}),
            dict(data.get("tracking") or {}),
        )

    # -- the runs ----------------------------------------------------------------------------
    def problems(self) -> list[str]:
        """What is wrong with the grid itself (not yet with each run's settings)."""
        out = []
        for name, values in self.axes.items():
            if name not in AXES:
                out.append(f"{name!r} cannot be a sweep axis; axes: {', '.join(AXES)}")
            elif not values:
                out.append(f"the axis {name} has no values; give it at least one")
        for name in self.settings:
            if name in self.axes:
                out.append(f"{name} is both an axis and a shared setting; give it once")
        if self.executor not in EXECUTORS:
            out.append(
                f"executor {self.executor!r} is unknown; choose one of {', '.join(EXECUTORS)}"
            )
        if not out and self.size() > MAX_RUNS:
            out.append(f"the grid has {self.size()} runs; a sweep holds at most {MAX_RUNS}")
        return out

    def size(self) -> int:
        n = 1
        for values in self.axes.values():
            n *= len(dict.fromkeys(map(repr, values)))
        return n

    def combinations(self) -> list[dict[str, Any]]:
        """Each run's axis values, in grid order (the first axis varies slowest)."""
        names = [n for n in AXES if n in self.axes]  # a fixed order: algorithm, seed, shot, ...
        values = [list({repr(v): v for v in self.axes[n]}.values()) for n in names]
        return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*values)]

    def configs(self) -> list[RunConfig]:
        """Every run's configuration, validated; all problems of all runs reported at once.

        Raises:
            ConfigError: the grid's problems, or each failing run's, prefixed with its values.
        """
        if out := self.problems():
            raise ConfigError(out)
        algorithms = catalog.algorithms()
        readers = {s.name for a in algorithms.values() for s in a.settings}
        default_algo = self.settings.get("algorithm", SPEC["algorithm"].default)
        chosen = {str(a) for a in self.axes.get("algorithm", [default_algo])}
        out, configs = [], []
        for name in self.settings:
            if name in SPEC or name not in readers:
                continue  # spec settings go to every run; unknown names: the validator says so
            if not any(name in own_settings(a) for a in chosen):
                who = [
                    a for a, info in algorithms.items() if name in {s.name for s in info.settings}
                ]
                out.append(f"{name} is read by {', '.join(who)}; none of this sweep's algorithms")
        for combo in self.combinations():
            algo = combo.get("algorithm", default_algo)
            own = own_settings(str(algo))
            shared = {
                k: v for k, v in self.settings.items() if k in SPEC or k in own or k not in readers
            }
            axis_values = {
                k: v for k, v in combo.items() if k in SPEC or k in own or k not in readers
            }
            try:
                configs.append(validate(make_config({**shared, **axis_values})))
            except ConfigError as err:
                where = describe(combo)
                out += [f"{where}: {p}" for p in err.problems]
        if out:
            raise ConfigError(list(dict.fromkeys(out)))
        return configs


def own_settings(algorithm: str) -> set[str]:
    info = catalog.algorithms().get(algorithm)
    return {s.name for s in info.settings} if info else set()


def describe(combo: dict[str, Any]) -> str:
    """A run's place in the grid in words ("protonet, seed 1, 5-shot")."""
    words = {
        "seed": "seed {}",
        "n_shot": "{}-shot",
        "n_way": "{}-way",
        "dataset": "on {}",
        "backbone": "{} backbone",
    }
    return ", ".join(words.get(k, "{}").format(v) for k, v in combo.items())


AXIS_WORDS = {
    "algorithm": "methods",
    "seed": "seeds",
    "n_shot": "shot counts",
    "n_way": "way counts",
    "dataset": "datasets",
    "backbone": "backbones",
}


def describe_grid(plan: SweepPlan) -> str:
    """A sweep's default name: its axes in words ("protonet, matching × 3 seeds × K 1, 5")."""
    parts = []
    for name in [n for n in AXES if n in plan.axes]:  # the grid's order
        values = plan.axes[name]
        unique = list(dict.fromkeys(map(str, values)))
        if name == "algorithm":
            parts.append(", ".join(unique))
        elif name == "n_shot":
            parts.append("K " + ", ".join(unique))
        elif name == "n_way":
            parts.append("N " + ", ".join(unique))
        elif len(unique) > 1 or name == "seed":
            parts.append(f"{len(unique)} {AXIS_WORDS.get(name, name)}")
        else:
            parts.append(unique[0])
    return " × ".join(parts)


def estimate_seconds(
    store: Store, configs: list[RunConfig], parallel: int = 1, device: str = "cpu"
) -> float | None:
    """Roughly how long the sweep takes on `device` (as the store names it): each run's loading,
    training (at most its time budget) and testing at the rates of the latest completed run of
    its shape there (`engine.estimate`), divided over `parallel` runs at once. None if any run
    has nothing to go by."""
    rates = past_rates(store.list_runs())
    totals = [estimate(cfg, device, rates).total for cfg in configs]
    if any(total is None for total in totals):
        return None
    return sum(totals) / max(1, parallel)


def sweep_rows(store: Store, sweep_id: str) -> list[dict[str, Any]]:
    """One row per run of a sweep, in the words the CLI's `--json` prints: run_id,
    algorithm, seed, n_shot, n_way, dataset, status, test_accuracy (None unless it finished
    with one), and the kind's own metric and its CI."""
    from metalearn.engine.records import RunRecord

    rows = []
    for row in store.group_runs(sweep_id):
        r = RunRecord.from_row(row)
        res = r.result.fields if r.result else {}
        rows.append(
            {
                "run_id": r.id,
                "algorithm": r.spec.algorithm,
                "dataset": r.spec.dataset,
                "seed": r.spec.seed,
                "n_way": r.spec.n_way,
                "n_shot": r.spec.n_shot,
                "backbone": r.spec.hyper.get("backbone"),
                "status": r.status,
                "test_accuracy": res.get("test_accuracy"),
                "metric": r.kind.metric,
                "value": res.get(r.kind.metric),
                "ci95": res.get(r.kind.ci_key),
                "error": r.error,
            }
        )
    return rows


def wait_for(store: Store, run_ids: list[str], reap, poll: float = 0.5, on_change=None) -> None:
    """Blocks until none of `run_ids` is queued or running (`reap` marks dead workers lost);
    `on_change(run)` hears each run that ends."""
    left = set(run_ids)
    while left:
        reap()
        for run_id in sorted(left):
            run = store.get_run(run_id)
            if run is None or run["status"] not in ("queued", "running"):
                left.discard(run_id)
                if on_change and run is not None:
                    on_change(run)
        if left:
            time.sleep(poll)
