"""Adaptation, step by step: a score against adaptation steps for several runs (MAML's
Figure 5 for returns, its Figure 2's numbers for MSE), and a navigation agent's paths."""

from __future__ import annotations

import plotly.graph_objects as go

from metalearn.viz.curves import BELOW_AXIS_TITLE
from metalearn.viz.style import run_colours

PATH_COLORS = ("#adb5bd", "#f08c00", "#1971c2", "#2f9e44", "#9c36b5")


def score_by_steps(
    runs: dict[str, tuple[dict[str, float], dict[str, float] | None]],
    metric: str = "return",
    title: str = "",
    colours: dict[str, str] | None = None,
) -> go.Figure:
    """One line per run, in the run's colour: its mean test score after each number of
    adaptation steps.

    Args:
        runs: label -> (steps as strings -> mean, steps -> 95% CI half-width or None).
        metric: the y axis' words ("average return", "MSE").
        colours: label -> colour, shared by a page's charts (default: `run_colours`).
    """
    fig = go.Figure()
    colours = colours or run_colours(runs)
    for name, (means, cis) in runs.items():
        steps = sorted(means, key=int)
        error = None
        if cis:
            error = {"type": "data", "array": [cis.get(s, 0.0) for s in steps], "visible": True}
        fig.add_trace(
            go.Scatter(
                x=[int(s) for s in steps],
                y=[means[s] for s in steps],
                error_y=error,
                mode="lines+markers",
                name=name,
                line={"color": colours[name]},
                marker={"color": colours[name]},
            )
        )
    fig.update_layout(
        title=title or f"{metric} vs adaptation steps",
        xaxis_title="adaptation (gradient) steps",
        yaxis_title=metric,
        xaxis={"dtick": 1},
        margin={"l": 40, "r": 10, "t": 40, "b": 40},
        height=380,
        legend=BELOW_AXIS_TITLE,
    )
    return fig


def navigation_paths(
    goal: list[float], paths: list[list[list[float]]], title: str = "", mean_return=None
) -> go.Figure:
    """A 2D-navigation agent's trajectories from the origin, and the goal it could not see.

    Args:
        goal: [x, y].
        paths: trajectories, each a list of [x, y] positions (the origin first).
        mean_return: shown in the title where given.
    """
    fig = go.Figure()
    for i, path in enumerate(paths):
        xs, ys = [p[0] for p in path], [p[1] for p in path]
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines",
                line={"color": PATH_COLORS[i % len(PATH_COLORS)], "width": 1.5},
                name=f"trajectory {i + 1}",
                showlegend=False,
            )
        )
    fig.add_trace(
        go.Scatter(
            x=[goal[0]],
            y=[goal[1]],
            mode="markers",
            marker={"symbol": "star", "size": 16, "color": "#e03131"},
            name="goal",
        )
    )
    fig.add_trace(
        go.Scatter(x=[0], y=[0], mode="markers", marker={"size": 8, "color": "black"}, name="start")
    )
    if mean_return is not None:
        title = f"{title} · return {mean_return:.1f}" if title else f"return {mean_return:.1f}"
    fig.update_layout(
        title=title,
        xaxis={"range": [-0.8, 0.8], "title": "x"},
        yaxis={"range": [-0.8, 0.8], "title": "y", "scaleanchor": "x"},
        margin={"l": 30, "r": 10, "t": 40, "b": 30},
        height=300,
        showlegend=False,
    )
    return fig
