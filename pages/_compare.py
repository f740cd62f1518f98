"""Paired comparisons of finished runs on their identical test episodes."""

from __future__ import annotations

import itertools

from metalearn.viz import paired_difference
from pages._ui import episodes, kind, label, record


def paired_rows(done: list[dict]) -> list[dict]:
    """One row per pair of runs that share test episodes: mean per-episode difference, its 95%
    CI and a verdict (where lower is better, e.g. MSE, the verdict says so)."""
    rows = []
    for a, b in itertools.combinations(done, 2):
        key = record(a).pairing_key
        if key is None or key != record(b).pairing_key:
            continue  # different test episodes (or none): no pairing possible
        diff = paired_difference(episodes(a["id"]), episodes(b["id"]))
        a_better = (diff["mean_difference"] > 0) == kind(a).higher_is_better
        verdict = "no significant difference"
        if diff.get("significant"):
            verdict = "A better" if a_better else "B better"
        rows.append(
            {
                "A": label(a),
                "B": label(b),
                "episodes": diff["episodes"],
                "mean A − B": diff["mean_difference"],
                "95% CI ±": diff["ci95"],
                "verdict": verdict,
            }
        )
    return rows


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
