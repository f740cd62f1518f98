"""Side-by-side comparison: accuracy with confidence intervals, paired differences on identical
test episodes, and convergence speed."""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go


def accuracy_bars(summary: pd.DataFrame, metric: str = "test accuracy") -> go.Figure:
    """Bars with 95% CI error bars. summary: columns label, value, ci95."""
    fig = go.Figure(
        go.Bar(
            x=summary["label"],
            y=summary["value"],
            error_y={"type": "data", "array": summary["ci95"], "visible": True, "thickness": 2},
            text=[
                f"{v:.3f} ± {c:.3f}" for v, c in zip(summary["value"], summary["ci95"], strict=True)
            ],
            textposition="outside",
            marker_color="#3b5bdb",
        )
    )
    top = float((summary["value"] + summary["ci95"]).max()) if len(summary) else 1.0
    fig.update_layout(
        title=f"{metric} (95% CI)",
        yaxis_title=metric,
        height=360,
        # Accuracy keeps its natural 0..1 axis; other metrics (MSE) scale to the data.
        yaxis_range=[0, max(1.05, top * 1.1) if "accuracy" in metric else top * 1.15],
        margin={"l": 40, "r": 10, "t": 40, "b": 40},
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
    above it, or at or below it where lower is better, e.g. MSE).

    Args:
        metrics: rows with columns run, step, time, name, value.
    Returns:
        columns run, episodes, seconds (None where the target was never reached).
    """
    rows = []
    for run, data in metrics.groupby("run", sort=False):
        start = data["time"].min()
        reached = data["value"] >= target if higher_is_better else data["value"] <= target
        hit = data[(data["name"] == name) & reached].sort_values("step")
        rows.append(
            {
                "run": run,
                "episodes": int(hit["step"].iloc[0]) if len(hit) else None,
                "seconds": float(hit["time"].iloc[0] - start) if len(hit) else None,
            }
        )
    return pd.DataFrame(rows, columns=["run", "episodes", "seconds"])
