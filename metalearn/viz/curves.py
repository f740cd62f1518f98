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
        curve: {"x", "true", "support_x", "support_y", "predicted": {steps: y}} (lists of floats).
    """
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
    for steps, ys in curve["predicted"].items():
        fig.add_trace(
            go.Scatter(
                x=curve["x"],
                y=ys,
                mode="lines",
                name=f"after {steps} steps",
                line={"color": STEP_COLORS.get(steps, "#3b5bdb"), "dash": "dash"},
            )
        )
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
        height=320,
        margin={"l": 30, "r": 10, "t": 40, "b": 30},
        xaxis_title="x",
        yaxis_title="y",
    )
    return fig
