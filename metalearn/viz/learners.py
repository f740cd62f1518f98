"""Views inside learned learners: the LSTM meta-learner's gates, the memory network's memory."""

from __future__ import annotations

import numpy as np
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


# Santoro et al. 2016, table 1 (MANN, 5 classes, after 100,000 episodes): instance -> accuracy.
PAPER_MANN_INSTANCES = {1: 0.364, 2: 0.828, 3: 0.919, 4: 0.940, 5: 0.949, 10: 0.981}


def instance_training_figure(
    metrics: pd.DataFrame, instances: tuple[int, ...] = (1, 2, 3, 5, 10)
) -> go.Figure:
    """Training accuracy on the k-th presentation of a class, over training (memory learners).

    Args:
        metrics: rows with columns step, name, value; rows named "accuracy_instance_<k>".
    """
    fig = go.Figure()
    for k in instances:
        data = metrics[metrics["name"] == f"accuracy_instance_{k}"]
        if len(data):
            fig.add_trace(go.Scatter(x=data["step"], y=data["value"], mode="lines", name=f"#{k}"))
    fig.update_layout(
        title="Training accuracy by presentation of a class within the episode",
        height=340,
        xaxis_title="training episodes",
        yaxis_title="accuracy",
        yaxis_range=[0, 1],
        legend_title="instance",
        margin={"l": 40, "r": 10, "t": 40, "b": 40},
    )
    return fig


def instance_accuracy_figure(accuracy: list[float], ci95: list[float]) -> go.Figure:
    """Test accuracy by instance number with 95% CIs, next to the paper's figures."""
    k = list(range(1, len(accuracy) + 1))
    fig = go.Figure(
        go.Scatter(
            x=k,
            y=accuracy,
            error_y={"type": "data", "array": ci95},
            mode="lines+markers",
            name="this run",
        )
    )
    paper = {i: a for i, a in PAPER_MANN_INSTANCES.items() if i <= len(accuracy)}
    fig.add_trace(
        go.Scatter(
            x=list(paper),
            y=list(paper.values()),
            mode="markers",
            marker={"symbol": "x", "size": 10},
            name="Santoro et al. 2016 (100k episodes)",
        )
    )
    fig.update_layout(
        title="Test accuracy by presentation of a class",
        height=340,
        xaxis_title="instance (k-th presentation)",
        yaxis_title="accuracy",
        yaxis_range=[0, 1.02],
        margin={"l": 40, "r": 10, "t": 40, "b": 40},
    )
    return fig


def memory_figure(
    weights: np.ndarray,
    labels: np.ndarray,
    predictions: np.ndarray,
    instance: np.ndarray,
    kind: str = "read",
) -> go.Figure:
    """Heat map of memory use over one sequence: slots (rows) x time steps (columns).

    Args:
        weights: [T, R, N] read or write weights of R heads over N slots (summed over heads).
        labels, predictions, instance: [T] true label, guess and presentation number per step.
        kind: "read" or "write", for the title.
    """
    used = weights.sum(1).T  # [N, T]
    active = np.flatnonzero(used.max(1) > 1e-3)  # slots touched at all; the rest stay blank
    rows = active if len(active) else np.arange(used.shape[0])
    steps = np.arange(len(labels))
    # per cell: the step's class, its presentation number, the guess ([slots, T, 3])
    step = np.stack([labels, instance, predictions], axis=-1)
    fig = go.Figure(
        go.Heatmap(
            z=used[rows],
            x=steps,
            y=rows,
            customdata=np.broadcast_to(step, (len(rows), *step.shape)),
            colorscale="Viridis",
            colorbar={"title": "weight"},
            hovertemplate="time step %{x}<br>class %{customdata[0]} · presentation "
            "%{customdata[1]} · guess %{customdata[2]}<br>memory slot %{y}<br>"
            "weight %{z:.3f}<extra></extra>",
        )
    )
    fig.update_layout(
        title=f"{kind} weights per step (summed over heads; {len(rows)} slots in use)",
        height=420,
        xaxis={"showticklabels": False, "title": "time step (hover for class and guess)"},
        yaxis={"title": "memory slot", "autorange": "reversed", "type": "category"},
        margin={"l": 60, "r": 10, "t": 40, "b": 40},
    )
    return fig
