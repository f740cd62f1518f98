"""You vs the model: the score board (error rates with their intervals, beside published ones) and
drawings as a person sees them (dark ink on white)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

COLOURS = {"you": "#e8590c", "model": "#1971c2", "published": "#868e96"}


def on_paper(drawing: np.ndarray) -> np.ndarray:
    """A drawing with ink = 255 (uint8 [1, H, W] or [H, W]) as dark ink on white, [H, W]."""
    img = np.asarray(drawing, dtype=np.uint8)
    return 255 - (img[0] if img.ndim == 3 else img)


def scoreboard(rows: list[dict]) -> go.Figure:
    """Error rates as points with 95% whiskers, lowest error on top.

    Args:
        rows: dicts with `who` (the row's label), `error` (a fraction), `group` ("you", "model"
            or "published"), and optionally `ci_low` / `ci_high` (fractions) and `trials`.
    """
    rows = sorted(rows, key=lambda r: -r["error"])  # plotly draws the first category lowest
    fig = go.Figure()
    for group, name in (("published", "Published"), ("model", "Model"), ("you", "You")):
        mine = [r for r in rows if r["group"] == group]
        if not mine:
            continue
        err = [100 * r["error"] for r in mine]
        plus = [100 * (r.get("ci_high", r["error"]) - r["error"]) for r in mine]
        minus = [100 * (r["error"] - r.get("ci_low", r["error"])) for r in mine]
        fig.add_trace(
            go.Scatter(
                x=err,
                y=[r["who"] for r in mine],
                mode="markers+text",
                name=name,
                marker={"size": 16, "color": COLOURS[group]},
                error_x={"type": "data", "array": plus, "arrayminus": minus, "thickness": 3},
                text=[f"{e:.1f}%" for e in err],
                textposition="top center",
                textfont={"size": 16, "color": COLOURS[group]},
                customdata=[r.get("trials") or "" for r in mine],
                hovertemplate="%{y}<br>error rate: %{x:.1f}%"
                + ("<br>trials: %{customdata}" if all(r.get("trials") for r in mine) else "")
                + "<extra></extra>",
            )
        )
    top = max([100 * r.get("ci_high", r["error"]) for r in rows] + [15.0])
    fig.update_layout(
        height=120 + 60 * len(rows),
        font={"size": 16},
        xaxis={
            "title": {"text": "error rate (%), lower is better", "font": {"size": 18}},
            "range": [0, top * 1.1],
            "dtick": 5,
            "tickfont": {"size": 16, "color": "#212529"},
        },
        yaxis={
            "categoryorder": "array",
            "categoryarray": [r["who"] for r in rows],
            "tickfont": {"size": 16, "color": "#212529"},
        },
        legend={"orientation": "h", "y": -0.25, "font": {"size": 16}},
        margin={"l": 10, "r": 20, "t": 20, "b": 10},
    )
    return fig
