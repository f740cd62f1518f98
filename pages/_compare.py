"""Paired comparisons of finished runs on their identical test episodes."""

from __future__ import annotations

import itertools

from metalearn.viz import paired_difference
from pages._ui import episodes, kind, label


def pairing_key(run: dict) -> str | None:
    """Runs with equal keys were scored on the very same test episodes. The key comes from the
    run's kind (stored with its result; worked out again for runs stored before it was)."""
    result = run["result"] or {}
    if "pairing_key" in result:
        return result["pairing_key"]
    from metalearn.engine.validate import stored

    return kind(run).pairing_key(stored(run["config"]))


def paired_rows(done: list[dict]) -> list[dict]:
    """One row per pair of runs that share test episodes: mean per-episode difference, its 95%
    CI and a verdict (where lower is better, e.g. MSE, the verdict says so)."""
    rows = []
    for a, b in itertools.combinations(done, 2):
        key = pairing_key(a)
        if key is None or key != pairing_key(b):
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
