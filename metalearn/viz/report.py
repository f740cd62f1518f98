"""A comparison report as one self-contained HTML page: tables and charts in, a string out.

The page carries plotly.js once, inline, so it opens offline in any browser; its stylesheet
keeps tables and charts whole across printed pages. Pure: the data is gathered elsewhere
(`metalearn.engine.report`).
"""

from __future__ import annotations

import html

import pandas as pd
import plotly.graph_objects as go

STYLE = """
body { font-family: system-ui, sans-serif; color: #212529; margin: 2rem auto; max-width: 1100px;
       padding: 0 1rem; line-height: 1.45; }
h1 { font-size: 1.7rem; margin-bottom: .2rem; } h2 { margin-top: 2rem; border-bottom: 1px solid
#dee2e6; padding-bottom: .2rem; }
table { border-collapse: collapse; width: 100%; font-size: .88rem; margin: .5rem 0; }
th, td { border: 1px solid #dee2e6; padding: .25rem .45rem; text-align: left; vertical-align: top; }
th { background: #f1f3f5; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.differs { font-weight: 600; background: #fff3bf; }
.muted { color: #6c757d; font-size: .9rem; } .figure { margin: .5rem 0 1rem; }
@media print {
  body { margin: 0; max-width: none; } h2 { break-after: avoid; }
  table, .figure { break-inside: avoid; } a { color: inherit; text-decoration: none; }
}
"""


def table_html(df: pd.DataFrame, numbers: dict[str, str] | None = None, marked=None) -> str:
    """An HTML table of `df`: numbers formatted (`numbers`: column -> format, e.g. "{:.3f}"),
    empty cells for missing values, cells where `marked(row, column)` is true highlighted."""
    numbers = numbers or {}
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    body = []
    for i, row in df.iterrows():
        cells = []
        for c in df.columns:
            v = row[c]
            missing = v is None or (isinstance(v, float) and pd.isna(v))
            text = "" if missing else (numbers[c].format(v) if c in numbers else str(v))
            classes = ["num"] if c in numbers else []
            if marked is not None and marked(i, c):
                classes.append("differs")
            attr = f' class="{" ".join(classes)}"' if classes else ""
            cells.append(f"<td{attr}>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def report_html(
    title: str,
    intro: str,
    sections: list[tuple[str, list[str | go.Figure]]],
) -> str:
    """The whole page.

    Args:
        title: the page's heading.
        intro: a line under it (plain text).
        sections: (heading, parts) in order; a part is HTML (a table, a paragraph) or a figure.
    """
    out, first = [], True
    for heading, parts in sections:
        out.append(f"<h2>{html.escape(heading)}</h2>")
        for part in parts:
            if isinstance(part, go.Figure):
                div = part.to_html(
                    full_html=False,
                    include_plotlyjs=first,  # plotly.js once, inline: the page works offline
                    config={"displaylogo": False, "responsive": True},
                )
                out.append(f'<div class="figure">{div}</div>')
                first = False
            else:
                out.append(part)
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><p class='muted'>{html.escape(intro)}</p>"
        + "".join(out)
        + "</body></html>"
    )
