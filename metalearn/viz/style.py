"""How every chart looks: written for a projector at the back of a classroom. Text 14-16 px in
near-black (not 9-11 px grey), axes with ticks along their length, and colours that stay apart
from one run to the next. Registered as plotly's default template on import; the dashboard draws
charts with Streamlit's own theme switched off (`theme=None`), so this one applies."""

import plotly.graph_objects as go
import plotly.io as pio

INK = "#212529"
GRID = "#e9ecef"
# Distinct under the common colour-vision deficiencies (Okabe & Ito), darkest first.
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")

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
