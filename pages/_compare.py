"""Paired comparisons of finished runs on their identical test episodes."""

from __future__ import annotations

import itertools

from metalearn.viz import paired_difference
from pages._ui import episodes, label


def test_shape(run: dict) -> tuple:
    """Runs with the same test shape were scored on the very same seeded test episodes."""
    c = run["config"]  # regression tasks depend on K only; classification on the full shape
    if c["dataset"] == "sinusoid":
        return ("sinusoid", c["n_shot"], c["inner_steps_test"])
    return (c["dataset"], c["n_way"], c["n_shot"], c["n_query"])


def paired_rows(done: list[dict]) -> list[dict]:
    """One row per pair of runs that share test episodes: mean per-episode difference, its 95%
    CI and a verdict (for MSE, lower is better)."""
    rows = []
    for a, b in itertools.combinations(done, 2):
        if test_shape(a) != test_shape(b):
            continue  # different test episodes: no pairing possible
        diff = paired_difference(episodes(a["id"]), episodes(b["id"]))
        higher_is_better = a["config"]["dataset"] != "sinusoid"  # accuracy vs MSE
        a_better = (diff["mean_difference"] > 0) == higher_is_better
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
