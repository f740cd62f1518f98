"""How every chart looks: written for a projector at the back of a classroom. Text 14-16 px in
near-black (not 9-11 px grey), axes with ticks along their length, and colours that stay apart
from one run to the next. Registered as plotly's default template on import; the dashboard draws
charts with Streamlit's own theme switched off (`theme=None`), so this one applies."""

from collections.abc import Iterable

import plotly.graph_objects as go
import plotly.io as pio

INK = "#212529"
GRID = "#e9ecef"
# Distinct under the common colour-vision deficiencies (Okabe & Ito), darkest first.
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
# How a run's second, third, ... metric in one chart is told from its first (the colour is the
# run's; validation curves are dotted).
DASHES = ("solid", "dash", "dashdot", "longdash")


def run_colours(runs: Iterable[str]) -> dict[str, str]:
    """One colour per run, the same in every chart that is given the same runs and on every
    redraw: the runs, sorted, take `COLOURS` in turn (never the order their rows arrived in).

    Args:
        runs: the runs' labels (repeats allowed).
    """
    return {run: COLOURS[i % len(COLOURS)] for i, run in enumerate(sorted(set(runs)))}


def dash_of(name: str, position: int) -> str:
    """The line style of a run's `position`-th metric in a chart (validation: dotted)."""
    return "dot" if name.startswith("val_") else DASHES[position % len(DASHES)]


_axis = {
    "tickfont": {"size": 14, "color": INK},
    "title": {"font": {"size": 15, "color": INK}},
    "gridcolor": GRID,
    "zerolinecolor": GRID,
    "linecolor": "#adb5bd",
    "showline": True,
    "nticks": 8,
    "automargin": True,
}
PROJECTOR = go.layout.Template(
    layout={
        "font": {"size": 15, "color": INK, "family": "sans-serif"},
        "title": {"font": {"size": 17, "color": INK}},
        "colorway": COLOURS,
        "xaxis": _axis,
        "yaxis": _axis,
        "legend": {"font": {"size": 14, "color": INK}},
        "hoverlabel": {"font": {"size": 14}},
        "plot_bgcolor": "white",
        "paper_bgcolor": "white",
    }
)
pio.templates["metalearn"] = PROJECTOR
pio.templates.default = "plotly_white+metalearn"


def for_projector(fig: go.Figure, scale: float = 1.5) -> go.Figure:
    """The figure for a classroom projector: its text, lines and markers `scale` times larger
    and the plot taller to hold them (projector mode)."""
    layout = fig.layout
    fig.update_layout(
        font={"size": 15 * scale},
        title={"font": {"size": 17 * scale}},
        legend={"font": {"size": 14 * scale}},
        hoverlabel={"font": {"size": 14 * scale}},
    )
    if layout.height:
        fig.update_layout(height=int(layout.height * (1 + (scale - 1) / 2)))
    fig.update_xaxes(tickfont={"size": 14 * scale}, title={"font": {"size": 15 * scale}})
    fig.update_yaxes(tickfont={"size": 14 * scale}, title={"font": {"size": 15 * scale}})
    for trace in fig.data:
        marker = getattr(trace, "marker", None)
        if marker is not None and "size" in marker and isinstance(marker.size, (int, float)):
            marker.size = marker.size * scale
        elif marker is not None and trace.type == "scatter":
            marker.size = 6 * scale  # plotly's default, enlarged
        line = getattr(trace, "line", None)
        if line is not None and trace.type == "scatter":
            line.width = (line.width or 2) * scale
        if trace.type == "scatter" and getattr(trace, "textfont", None) is not None:
            trace.textfont.size = (trace.textfont.size or 14) * scale
    return fig
