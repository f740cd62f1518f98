"""Loss and accuracy curves of one or several runs."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from metalearn.viz.style import COLOURS, dash_of, run_colours

X_AXES = {"step": "training episodes", "time": "wall time (s)"}


# A horizontal legend under the x axis' title, not over it (plotly's default place for a
# horizontal legend overlaps the title); the margin grows to hold it.
BELOW_AXIS_TITLE = {"orientation": "h", "yanchor": "top", "y": -0.28, "x": 0}


def learning_curves(
    metrics: pd.DataFrame,
    names: list[str],
    x: str = "step",
    title: str = "",
    colours: dict[str, str] | None = None,
) -> go.Figure:
    """One line per (run, metric), in the run's colour; a run's metrics apart by their dashes.

    Args:
        metrics: rows with columns run (label), step, time, name, value; `time` in seconds since
            the run's first metric row is used when x == "time".
        names: metric names to draw, e.g. ["loss"] or ["accuracy", "val_accuracy"].
        x: "step" or "time".
        colours: run label -> colour, shared by a page's charts (default: `run_colours` of
            every run in `metrics`).
    """
    fig = go.Figure()
    colours = colours or run_colours(metrics["run"])
    data = metrics[metrics["name"].isin(names)]
    multi_run = data["run"].nunique() > 1
    for (run, name), rows in data.groupby(["run", "name"], sort=True):
        rows = rows.sort_values("step")
        xs = (
            rows["time"] - metrics.loc[metrics["run"] == run, "time"].min()
            if x == "time"
            else (rows["step"])
        )
        label = f"{run} · {name}" if multi_run else name
        colour = colours.get(run, COLOURS[0])
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=rows["value"],
                mode="lines+markers",
                name=label,
                line={"dash": dash_of(name, names.index(name)), "color": colour},
                marker={"size": 4, "color": colour},
            )
        )
    fig.update_layout(
        title=title or ", ".join(names),
        xaxis_title=X_AXES[x],
        yaxis_title=" / ".join(names),
        margin={"l": 40, "r": 10, "t": 40, "b": 40},
        height=360,
        legend=BELOW_AXIS_TITLE,
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
    predicted = {} if "std" in curve else curve["predicted"]
    shown = {s: ys for s, ys in predicted.items() if s in STEP_COLORS} or predicted
    for steps, ys in shown.items():
        color = STEP_COLORS.get(steps, "#3b5bdb")
        _add_line(fig, curve["x"], ys, f"after {steps} steps", color)
    return _with_support(fig, curve, title, 320)


def adaptation_steps(curves: dict[str, dict], title: str = "") -> go.Figure:
    """Adaptation you can watch: each run's prediction on one task after 0, 1, 2, ... inner
    steps, as an animation (a slider and a Play button; plotly frames, no page reloads), beside
    the true curve and the K support points. Runs on the same task, e.g. MAML and the
    fine-tuning baseline; a run with a predictive distribution (CNP) stays as its band.

    Args:
        curves: run label -> one task's curve as `adaptation_figure` takes it, all for the same
            task; a run that stored fewer steps shows its latest stored step at or below each.
    """
    first = next(iter(curves.values()))
    adapting = {name: c for name, c in curves.items() if "std" not in c}
    steps = sorted({int(s) for c in adapting.values() for s in c["predicted"]}) or [0]

    def at(curve: dict, k: int) -> list[float]:
        stored = sorted(int(s) for s in curve["predicted"])
        return curve["predicted"][str(max((s for s in stored if s <= k), default=stored[0]))]

    fig = _truth(first)
    colours = run_colours(curves)
    for name, c in adapting.items():
        color = colours[name]
        fig.add_trace(
            go.Scatter(
                x=c["x"],
                y=at(c, steps[0]),
                mode="lines",
                name=name,
                line={"color": color, "width": 3},
            )
        )
    for name, c in curves.items():
        if "std" in c:
            _add_band(fig, c["x"], c["mean"], c["std"], colours[name], name)
    _with_support(fig, first, title, 460)
    ys = [y for c in adapting.values() for p in c["predicted"].values() for y in p] + first["true"]
    pad = 0.1 * (max(ys) - min(ys) or 1.0)
    moving = list(range(1, 1 + len(adapting)))  # the traces a frame replaces
    fig.frames = [
        go.Frame(
            name=str(k), data=[go.Scatter(y=at(c, k)) for c in adapting.values()], traces=moving
        )
        for k in steps
    ]
    still = {
        "mode": "immediate",
        "frame": {"duration": 0, "redraw": False},
        "transition": {"duration": 0},
    }
    fig.update_layout(
        yaxis_range=[min(ys) - pad, max(ys) + pad],  # fixed, so only the curves move
        font={"size": 15},
        legend={"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
        margin={"l": 30, "r": 10, "t": 110, "b": 30},
        sliders=[
            {
                "active": 0,
                "x": 0.12,
                "len": 0.88,
                "y": 0,
                "yanchor": "top",
                "currentvalue": {"prefix": "after inner steps: ", "font": {"size": 18}},
                "pad": {"t": 50, "b": 10},
                "steps": [
                    {"label": str(k), "method": "animate", "args": [[str(k)], still]} for k in steps
                ],
            }
        ],
        updatemenus=[
            {
                "type": "buttons",
                "x": 0.1,
                "y": 0,
                "xanchor": "right",
                "yanchor": "top",
                "pad": {"t": 85, "r": 10},
                "buttons": [
                    {
                        "label": "▶ Play",
                        "method": "animate",
                        "args": [
                            None,
                            {"frame": {"duration": 600, "redraw": False}, "fromcurrent": True},
                        ],
                    }
                ],
            }
        ],
    )
    return fig


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
