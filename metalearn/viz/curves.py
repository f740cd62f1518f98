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
