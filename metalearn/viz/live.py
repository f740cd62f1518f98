"""Live learning curves as a small inline SVG, for runs in flight.

A live panel redraws its curves every ~2 s. Redrawing a plotly figure made the browser take 13% of
a core and slowed the watched run by 13% on a 2-core machine; this SVG, swapped in as markup,
costs the browser about as little as the panel's text (measured with `scripts/watch_cost.py`).
Finished runs get the interactive plotly figure (`learning_curves`).
"""

from __future__ import annotations

import math
from html import escape

import pandas as pd

from metalearn.viz.style import COLOURS, dash_of, run_colours

# plotly's dashes (`style.dash_of`) as SVG stroke patterns
SVG_DASHES = {"solid": "", "dot": "4 3", "dash": "8 4", "dashdot": "8 3 2 3", "longdash": "12 4"}
WIDTH, PLOT_HEIGHT = 460, 180  # SVG units; the height grows with the legend's rows
LEFT, RIGHT, BOTTOM = 46, 12, 36  # plot margins in SVG units (the top one fits the legend)
CHAR = 6.2  # the approximate width of one 11-unit character


def _ticks(low: float, high: float) -> list[float]:
    """Three to six round values spanning [low, high]."""
    if high <= low:
        return [low]
    raw = (high - low) / 4
    step = 10 ** math.floor(math.log10(raw))
    step *= next(m for m in (1, 2, 2.5, 5, 10) if m * step >= raw)
    first = math.ceil(low / step) * step
    return [first + i * step for i in range(int((high - first) / step + 1e-9) + 1)]


def _fmt(v: float) -> str:
    return f"{v:.0f}" if abs(v) >= 100 or v == int(v) else f"{v:.3g}"


def _tick_labels(ticks: list[float]) -> list[str]:
    """Labels for ticks, with as many decimals as it takes for no two to read alike (a nearly
    flat loss has ticks 1.605, 1.61, 1.615: not "1.61", "1.61")."""
    labels = [_fmt(t) for t in ticks]
    decimals = 0
    while len(set(labels)) < len(labels) and decimals < 8:
        decimals += 1
        labels = [f"{t:.{decimals}f}" for t in ticks]
    return labels


def curves_svg(
    metrics: pd.DataFrame,
    names: list[str],
    title: str = "",
    words: dict[str, str] | None = None,
    colours: dict[str, str] | None = None,
) -> str:
    """One polyline per (run, metric), as `learning_curves` draws them (the same colour per
    run, `run_colours`; the same dashes), in a self-contained SVG.

    Args:
        metrics: rows with columns run (label), step, name, value.
        names: metric names to draw, e.g. ["loss"] or ["accuracy", "val_accuracy"].
        title: shown above the plot (default: the metric names).
        words: how to write the metric names and "no points yet" on screen (default: as they
            are), e.g. in the dashboard's language.
        colours: run label -> colour (default: `run_colours` of every run in `metrics`).

    Returns:
        An `<svg>` element (a string) with a `<title>` for screen readers.
    """
    colours = colours or run_colours(metrics["run"])
    data = metrics[metrics["name"].isin(names) & metrics["value"].map(math.isfinite)]
    words = words or {}
    title = title or ", ".join(words.get(n, n) for n in names)

    def head(height: float) -> list[str]:
        return [
            f'<svg class="live-curves" viewBox="0 0 {WIDTH} {height:.0f}" width="100%" '
            'xmlns="http://www.w3.org/2000/svg" role="img" font-family="sans-serif" '
            # The newline makes the SVG an HTML block to a Markdown renderer (Streamlit's
            # st.html drops SVG; st.markdown with HTML allowed shows it), not text to format.
            'font-size="11">\n',
            f"<title>{escape(title)}</title>",
            f'<text x="{LEFT}" y="14" font-size="13">{escape(title)}</text>',
        ]

    if data.empty:
        out = head(60)
        empty = escape(words.get("no points yet", "no points yet"))
        out.append(f'<text x="{LEFT}" y="40" fill="#868e96">{empty}</text></svg>')
        return "".join(out)
    groups = list(data.groupby(["run", "name"], sort=True))
    multi_run = data["run"].nunique() > 1
    labels = [
        f"{run} · {words.get(name, name)}" if multi_run else words.get(name, name)
        for (run, name), _ in groups
    ]
    # The legend in rows under the title, wrapped to the plot's width.
    legend, x, y = [], LEFT, 30
    for i, text in enumerate(labels):
        size = 18 + CHAR * len(text)
        if x > LEFT and x + size > WIDTH - RIGHT:
            x, y = LEFT, y + 13
        legend.append((i, text, x, y))
        x += size + 10
    top = y + 10
    height = top + PLOT_HEIGHT + BOTTOM
    out = head(height)
    x0, x1 = float(data["step"].min()), float(data["step"].max())
    if any("accuracy" in n for n in names):
        y0, y1 = 0.0, 1.0  # the same fixed range as the finished chart
    else:
        y0, y1 = float(data["value"].min()), float(data["value"].max())
        pad = (y1 - y0) * 0.05 or abs(y1) * 0.05 or 1.0
        y0, y1 = y0 - pad, y1 + pad
    x1 = x1 if x1 > x0 else x0 + 1
    w, h = WIDTH - LEFT - RIGHT, PLOT_HEIGHT

    def sx(v: float) -> float:
        return LEFT + (v - x0) / (x1 - x0) * w

    def sy(v: float) -> float:
        return top + (1 - (v - y0) / (y1 - y0)) * h

    ticks = _ticks(y0, y1)
    for t, text in zip(ticks, _tick_labels(ticks), strict=True):  # horizontal grid, labels
        y = sy(t)
        grid = f'x1="{LEFT}" x2="{LEFT + w}" y1="{y:.1f}" y2="{y:.1f}"'
        out.append(f'<line {grid} stroke="#e9ecef"/>')
        out.append(f'<text x="{LEFT - 4}" y="{y + 4:.1f}" text-anchor="end">{text}</text>')
    out.append(
        f'<rect x="{LEFT}" y="{top}" width="{w}" height="{h}" fill="none" stroke="#adb5bd"/>'
        f'<text x="{LEFT}" y="{height - 18:.0f}">{_fmt(x0)}</text>'
        f'<text x="{LEFT + w}" y="{height - 18:.0f}" text-anchor="end">{_fmt(x1)}</text>'
        f'<text x="{LEFT + w / 2}" y="{height - 4:.0f}" text-anchor="middle">'
        f"{escape(words.get('training episodes', 'training episodes'))}</text>"
    )

    def style(run: str, name: str) -> tuple[str, str]:
        pattern = SVG_DASHES[dash_of(name, names.index(name))]
        return colours.get(run, COLOURS[0]), f' stroke-dasharray="{pattern}"' if pattern else ""

    for (run, name), rows in groups:
        rows = rows.sort_values("step")
        color, dash = style(run, name)
        points = " ".join(
            f"{sx(s):.1f},{sy(v):.1f}" for s, v in zip(rows["step"], rows["value"], strict=True)
        )
        out.append(
            f'<polyline points="{points}" fill="none" stroke="{color}" stroke-width="1.8"{dash}/>'
        )
    for i, text, x, y in legend:
        color, dash = style(*groups[i][0])
        out.append(
            f'<line x1="{x:.0f}" x2="{x + 14:.0f}" y1="{y - 4}" y2="{y - 4}" stroke="{color}" '
            f'stroke-width="2"{dash}/><text x="{x + 18:.0f}" y="{y}">{escape(text)}</text>'
        )
    out.append("</svg>")
    return "".join(out)
