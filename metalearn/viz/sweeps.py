"""A sweep's score against the number of shots: one line per method with its 95% band."""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go

from metalearn.viz.style import run_colours


def _rgba(hex_color: str, alpha: float) -> str:
    r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def score_vs_shots(summary: pd.DataFrame, title: str = "") -> go.Figure:
    """Mean test score over seeds against K (shots per class), one line per method, its band
    the 95% CI across seeds (the runs' own episode CI where there is one seed).

    Args:
        summary: `metalearn.engine.sweep_stats.across_seeds` rows of one group (one way, one
            dataset): method, n_shot, seeds, mean, ci95_seeds, ci95_episodes, metric.
    """
    fig = go.Figure()
    metric = str(summary["metric"].iloc[0]) if len(summary) else "score"
    percent = "accuracy" in metric.lower()
    scale = 100.0 if percent else 1.0
    colours = run_colours(summary["method"])  # one per method, as in every other chart
    for method, part in summary.groupby("method", sort=False):
        part = part.sort_values("n_shot")
        color = colours[method]
        ci = [
            s if n > 1 and not math.isnan(s) else e
            for s, e, n in zip(
                part["ci95_seeds"], part["ci95_episodes"], part["seeds"], strict=True
            )
        ]
        mean = part["mean"] * scale
        upper = mean + pd.Series(ci, index=part.index) * scale
        lower = mean - pd.Series(ci, index=part.index) * scale
        if percent:
            upper, lower = upper.clip(upper=100.0), lower.clip(lower=0.0)
        shots = part["n_shot"].tolist()
        fig.add_trace(
            go.Scatter(
                x=shots + shots[::-1],
                y=upper.tolist() + lower.tolist()[::-1],
                fill="toself",
                mode="lines",
                fillcolor=_rgba(color, 0.18),
                line={"width": 0},
                hoverinfo="skip",
                showlegend=False,
                legendgroup=method,
            )
        )
        fig.add_trace(
            go.Scatter(
                x=shots,
                y=mean,
                mode="lines+markers",
                name=method,
                legendgroup=method,
                line={"color": color, "width": 3},
                marker={"size": 9},
                customdata=list(zip(part["seeds"], ci, strict=True)),
                hovertemplate=f"shots per class: %{{x}}<br>{metric}: %{{y:.1f}}"
                + ("%" if percent else "")
                + "<br>seeds: %{customdata[0]}<extra>"
                + method
                + "</extra>",
            )
        )
    fig.update_layout(
        title=title or f"{metric} vs shots per class",
        xaxis_title="shots per class (K)",
        yaxis_title=f"{metric} (%)" if percent else metric,
        xaxis={"tickvals": sorted(summary["n_shot"].unique().tolist())},
        font={"size": 15},
        margin={"l": 60, "r": 20, "t": 60, "b": 50},
        height=420,
        legend={"orientation": "h", "y": -0.2},
    )
    return fig
