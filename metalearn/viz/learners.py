"""Views inside learned learners: the LSTM meta-learner's gates."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go


def gates_figure(metrics: pd.DataFrame, gate: str = "input") -> go.Figure:
    """Mean gate value of each inner step over training (the input gate is the learned learning
    rate; the forget gate the learned shrinkage).

    Args:
        metrics: rows with columns step, name, value; gate rows are named "<gate>_gate_<t>".
    """
    prefix = f"{gate}_gate_"
    rows = metrics[metrics["name"].str.startswith(prefix)]
    fig = go.Figure()
    for name, data in sorted(rows.groupby("name"), key=lambda kv: int(kv[0][len(prefix) :])):
        t = name[len(prefix) :]
        fig.add_trace(
            go.Scatter(x=data["step"], y=data["value"], mode="lines", name=f"inner step {t}")
        )
    what = "learned learning rate" if gate == "input" else "learned shrinkage"
    fig.update_layout(
        title=f"{gate} gate ({what}), mean over parameters",
        height=340,
        xaxis_title="training episodes",
        yaxis_title=f"{gate} gate",
        margin={"l": 40, "r": 10, "t": 40, "b": 40},
    )
    return fig
