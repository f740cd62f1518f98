"""Side-by-side comparison: accuracy with confidence intervals, paired differences on identical
test episodes, and convergence speed."""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go

from metalearn.viz.style import run_colours


def score_points(
    summary: pd.DataFrame, metric: str = "test accuracy", colours: dict[str, str] | None = None
) -> go.Figure:
    """Each run's score as a point with its 95% CI whisker, in the run's colour, on an axis
    around the scores (not bars from zero: the differences are what a comparison is about).

    Args:
        summary: columns label, value, ci95; accuracy as a fraction (shown in %).
        colours: label -> colour, shared by a page's charts (default: `run_colours`).
    """
    colours = colours or run_colours(summary["label"])
    percent = "accuracy" in metric
    scale = 100.0 if percent else 1.0
    values, cis = summary["value"] * scale, summary["ci95"] * scale
    fig = go.Figure()
    for label, v, c in zip(summary["label"], values, cis, strict=True):
        colour = colours[label]
        fig.add_trace(
            go.Scatter(
                x=[label],
                y=[v],
                error_y={"type": "data", "array": [c], "visible": True, "thickness": 3},
                mode="markers+text",
                marker={"size": 16, "color": colour},
                text=[f"{v:.1f}% ± {c:.1f}" if percent else f"{v:.3f} ± {c:.3f}"],
                textposition="middle right",
                textfont={"size": 15, "color": colour},
                name=label,
                showlegend=False,
            )
        )
    low, high = (values - cis).min(), (values + cis).max()
    pad = max((high - low) * 0.25, 0.5 if percent else 1e-3)
    low, high = low - pad, high + pad
    if percent:
        low, high = max(low, 0.0), min(high, 100.0)
    elif (values - cis).min() >= 0:  # errors (MSE) are never negative
        low = max(low, 0.0)
    fig.update_layout(
        title=f"{metric} (95% CI)",
        yaxis_title=f"{metric} (%)" if percent else metric,
        yaxis_range=[low, high],
        xaxis_range=[-0.5, len(summary) - 0.5],  # each point in the middle of its slot
        height=380,
        font={"size": 14},
        margin={"l": 50, "r": 10, "t": 40, "b": 40},
    )
    return fig


def paired_difference(a: list[float], b: list[float]) -> dict[str, float]:
    """Mean of per-episode differences a - b on the same episodes, with its 95% CI.

    Pairing removes the episode-to-episode difficulty both methods share, so the interval is
    much narrower than comparing two independent means.
    """
    n = min(len(a), len(b))
    if n == 0:
        return {"episodes": 0, "mean_difference": float("nan"), "ci95": float("nan")}
    diffs = [x - y for x, y in zip(a[:n], b[:n], strict=True)]
    mean = sum(diffs) / n
    var = sum((d - mean) ** 2 for d in diffs) / (n - 1) if n > 1 else 0.0
    ci = 1.96 * math.sqrt(var / n)
    return {
        "episodes": n,
        "mean_difference": mean,
        "ci95": ci,
        "significant": abs(mean) > ci and n > 1,
    }


def convergence(
    metrics: pd.DataFrame, target: float, name: str = "val_accuracy", higher_is_better: bool = True
) -> pd.DataFrame:
    """Episodes and seconds each run took to first reach `target` on metric `name` (at or
    above it, or at or below it where lower is better, e.g. MSE), and how often it was
    checked: a run validated every 500 episodes can only be seen to reach a target at 500, 1000,
    ...; one validated every 50, at 50, 100, ... (runs on different schedules do not compare).

    Args:
        metrics: rows with columns run, step, time, name, value.
    Returns:
        columns run, episodes, seconds (None where not reached), checks (how many values of
        `name` the run has: 0 means not measured), every (episodes between checks, None with
        fewer than two).
    """
    rows = []
    for run, data in metrics.groupby("run", sort=True):
        start = data["time"].min()
        checked = data[data["name"] == name].sort_values("step")
        reached = checked["value"] >= target if higher_is_better else checked["value"] <= target
        hit = checked[reached]
        gaps = checked["step"].diff().dropna()
        rows.append(
            {
                "run": run,
                "episodes": int(hit["step"].iloc[0]) if len(hit) else None,
                "seconds": float(hit["time"].iloc[0] - start) if len(hit) else None,
                "checks": len(checked),
                "every": int(gaps.median()) if len(gaps) else None,
            }
        )
    return pd.DataFrame(rows, columns=["run", "episodes", "seconds", "checks", "every"])
