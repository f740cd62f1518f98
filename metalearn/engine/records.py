"""Typed run records: a stored run with its spec, its kind and its typed result, built from the
store's rows (today's and older ones alike). Torch-free, like the kinds."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from metalearn.config import ConfigError, RunConfig
from metalearn.engine.kinds import KINDS, RunKind, RunResult, kind_of
from metalearn.engine.validate import stored
from metalearn.store import NoSuchRun, Store


def kind_of_row(config: dict[str, Any]) -> RunKind:
    """The kind of a stored configuration; one of an algorithm or dataset this version no longer
    has reads as plain episodes."""
    try:
        return kind_of(config)
    except (ConfigError, KeyError):
        return KINDS["episodes"]


def run_label(row: dict[str, Any], shape: str) -> str:
    """A stored run's label, its episode shape written by the caller (a page translates it)."""
    c = row["config"]
    named = f"{row['name']} · " if row.get("name") else ""
    return f"{named}{c['algorithm']} · {c['dataset']} {shape} · {row['id'][-6:]}"


def paired_rows(
    records: list[RunRecord], episodes: Callable[[str], list[float]], label=None
) -> list[dict[str, Any]]:
    """One row per pair of finished runs scored on identical test episodes: the mean
    per-episode difference A - B, its 95% CI and a verdict ("A better", "B better", "no
    significant difference"; where lower is better, e.g. MSE, the verdict says so).

    Args:
        records: the runs, finished ones with a result.
        episodes: run id -> its per-episode test scores.
        label: record -> how to name it (default: `RunRecord.label`).
    """
    from metalearn.viz import paired_difference

    name = label or (lambda r: r.label)
    rows = []
    for a, b in itertools.combinations(records, 2):
        key = a.pairing_key
        if key is None or key != b.pairing_key:
            continue  # different test episodes (or none): no pairing possible
        diff = paired_difference(episodes(a.id), episodes(b.id))
        a_better = (diff["mean_difference"] > 0) == a.kind.higher_is_better
        verdict = "no significant difference"
        if diff.get("significant"):
            verdict = "A better" if a_better else "B better"
        rows.append(
            {
                "A": name(a),
                "B": name(b),
                "episodes": diff["episodes"],
                "mean A − B": diff["mean_difference"],
                "95% CI ±": diff["ci95"],
                "verdict": verdict,
            }
        )
    return rows


@dataclass
class RunRecord:
    """One run as the store holds it.

    Attributes:
        spec: its configuration, resolved (an algorithm's defaults filled in).
        kind: its run kind (what it was scored on, how its result reads).
        result: its typed result, None until it has one.
    """

    id: str
    status: str
    spec: RunConfig
    kind: RunKind
    result: RunResult | None
    device: str | None
    group_id: str | None
    error: str | None
    row: dict[str, Any]

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> RunRecord:
        kind = kind_of_row(row["config"])
        try:
            spec = stored(row["config"])
        except (ConfigError, KeyError):  # an algorithm or dataset this version no longer has
            spec = RunConfig.from_dict(dict(row["config"]))
        data = row.get("result")
        result = RunResult.from_dict(data, kind) if data else None
        return cls(
            row["id"],
            row["status"],
            spec,
            kind,
            result,
            row.get("device"),
            row.get("group_id"),
            row.get("error"),
            row,
        )

    @property
    def pairing_key(self) -> str | None:
        """Runs with equal keys were scored on identical test episodes (stored with the result;
        worked out from the spec for runs stored before it was)."""
        if self.result is not None and self.result.pairing_key is not None:
            return self.result.pairing_key
        if self.result is not None and "pairing_key" in self.result.fields:
            return None  # stored as "never paired"
        return self.kind.pairing_key(self.spec)

    @property
    def label(self) -> str:
        """How a run is named in lists and charts: its name (where it has one), method, data,
        shape and the end of its id ("baseline · protonet · glyphs 5w1s · 3fa2c1")."""
        return run_label(self.row, self.kind.shape_label(self.row["config"]))

    def summary(self) -> str:
        """One line for its result, as its kind words it ("" while it has none)."""
        return self.kind.summary(self.result.fields if self.result else {})


def record(store: Store, run_id: str) -> RunRecord:
    """Raises:
    NoSuchRun: no run has this id."""
    row = store.get_run(run_id)
    if row is None:
        raise NoSuchRun(run_id)
    return RunRecord.from_row(row)


def records(store: Store) -> list[RunRecord]:
    return [RunRecord.from_row(r) for r in store.list_runs()]
