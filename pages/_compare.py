"""Paired comparisons of finished runs on their identical test episodes."""

from __future__ import annotations

from metalearn.engine.records import paired_rows as records_paired_rows
from pages._ui import episodes, kind, label, record


def paired_rows(done: list[dict]) -> list[dict]:
    """One row per pair of runs that share test episodes (`engine.records.paired_rows`), named
    as the page names them."""
    by_id = {r["id"]: r for r in done}
    return records_paired_rows(
        [record(r) for r in done], episodes, label=lambda rec: label(by_id[rec.id])
    )


def steps_curves(done: list[dict]) -> dict[str, dict[str, tuple[dict, dict | None]]]:
    """Finished runs whose kind scores after several numbers of adaptation steps, by metric
    label: run label -> (mean by steps, 95% CI by steps or None)."""
    out: dict[str, dict] = {}
    for r in done:
        k = kind(r)
        if k.steps_key and k.steps_key in r["result"]:
            cis = r["result"].get(k.steps_ci_key) if k.steps_ci_key else None
            out.setdefault(k.metric_label, {})[label(r)] = (r["result"][k.steps_key], cis)
    return out
