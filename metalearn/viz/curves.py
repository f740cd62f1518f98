"""Loss and accuracy curves of one or several runs."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

X_AXES = {"step": "training episodes", "time": "wall time (s)"}


def learning_curves(
    metrics: pd.DataFrame, names: list[str], x: str = "step", title: str = ""
) -> go.Figure:
    """One line per (run, metric).

    Args:
        metrics: rows with columns run (label), step, time, name, value; `time` in seconds since
            the run's first metric row is used when x == "time".
        names: metric names to draw, e.g. ["loss"] or ["accuracy", "val_accuracy"].
        x: "step" or "time".
    """
    fig = go.Figure()
    data = metrics[metrics["name"].isin(names)]
    multi_run = data["run"].nunique() > 1
    for (run, name), rows in data.groupby(["run", "name"], sort=False):
        rows = rows.sort_values("step")
        xs = (
            rows["time"] - metrics.loc[metrics["run"] == run, "time"].min()
            if x == "time"
            else (rows["step"])
        )
        label = f"{run} · {name}" if multi_run else name
        dash = "dot" if name.startswith("val_") else "solid"
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=rows["value"],
                mode="lines+markers",
                name=label,
                line={"dash": dash},
                marker={"size": 4},
            )
        )
    fig.update_layout(
        title=title or ", ".join(names),
        xaxis_title=X_AXES[x],
        yaxis_title=" / ".join(names),
        margin={"l": 40, "r": 10, "t": 40, "b": 40},
        height=320,
        legend={"orientation": "h"},
    )
    if any("accuracy" in n for n in names):
        fig.update_yaxes(range=[0, 1.02])
    return fig


STEP_COLORS = {"0": "#adb5bd", "1": "#f08c00", "10": "#2f9e44"}


def adaptation_figure(curve: dict, title: str = "") -> go.Figure:
    """The MAML paper's sinusoid figure for one task: the true curve, the K support points, and
    the prediction after 0, 1 and 10 adaptation steps.

    Args:
        curve: {"x", "true", "support_x", "support_y", "predicted": {steps: y}} (lists of floats);
            a learner with a predictive distribution adds "mean" and "std" (drawn as a band).
    """
    fig = _truth(curve)
    if "std" in curve:  # a predictive distribution (CNP): its mean and a +-2 sigma band
        _add_band(fig, curve["x"], curve["mean"], curve["std"], "#1971c2", "predictive mean")
    for steps, ys in ({} if "std" in curve else curve["predicted"]).items():
        color = STEP_COLORS.get(steps, "#3b5bdb")
        _add_line(fig, curve["x"], ys, f"after {steps} steps", color)
    return _with_support(fig, curve, title, 320)


RUN_COLORS = ("#1971c2", "#2f9e44", "#f08c00", "#9c36b5", "#e8590c")


def adaptation_comparison(curves: dict[str, dict], title: str = "") -> go.Figure:
    """Several runs on one and the same test task: the true curve, the K support points, and each
    run's prediction (adapting learners after their most adaptation steps; a CNP's predictive
    mean with its +-2 sigma band).

    Args:
        curves: run label -> one task's curve as `adaptation_figure` takes it; all for the same
            task (same support points).
    """
    first = next(iter(curves.values()))
    fig = _truth(first)
    for (label, curve), color in zip(curves.items(), RUN_COLORS * 4, strict=False):
        if "std" in curve:
            _add_band(fig, curve["x"], curve["mean"], curve["std"], color, label)
        else:
            steps = max(curve["predicted"], key=int)
            ys = curve["predicted"][steps]
            _add_line(fig, curve["x"], ys, f"{label} after {steps} steps", color)
    fig.update_layout(legend={"orientation": "h"})
    return _with_support(fig, first, title, 360)


def _truth(curve: dict) -> go.Figure:
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=curve["x"],
            y=curve["true"],
            mode="lines",
            name="true function",
            line={"color": "#c92a2a", "width": 3},
        )
    )
    return fig


def _add_line(fig: go.Figure, x, y, name: str, color: str) -> None:
    fig.add_trace(
        go.Scatter(x=x, y=y, mode="lines", name=name, line={"color": color, "dash": "dash"})
    )


def _with_support(fig: go.Figure, curve: dict, title: str, height: int) -> go.Figure:
    """The K support points on top, and the layout."""
    fig.add_trace(
        go.Scatter(
            x=curve["support_x"],
            y=curve["support_y"],
            mode="markers",
            name="K support points",
            marker={"size": 10, "color": "black"},
        )
    )
    fig.update_layout(
        title=title,
        height=height,
        margin={"l": 30, "r": 10, "t": 40, "b": 30},
        xaxis_title="x",
        yaxis_title="y",
    )
    return fig


def _add_band(fig: go.Figure, x, mean, std, color: str, name: str) -> None:
    """A mean line with a shaded +-2 standard deviation band."""
    upper = [m + 2 * s for m, s in zip(mean, std, strict=True)]
    lower = [m - 2 * s for m, s in zip(mean, std, strict=True)]
    fig.add_trace(
        go.Scatter(
            x=list(x) + list(x)[::-1],
            y=upper + lower[::-1],
            fill="toself",
            fillcolor=color,
            opacity=0.2,
            line={"width": 0},
            name=f"{name} ± 2σ",
            hoverinfo="skip",
        )
    )
    fig.add_trace(go.Scatter(x=x, y=mean, mode="lines", name=name, line={"color": color}))
