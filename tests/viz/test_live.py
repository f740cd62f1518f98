import math
import re
import xml.etree.ElementTree as ET

import pandas as pd

from metalearn.viz import curves_svg
from metalearn.viz.live import PLOT_HEIGHT, WIDTH

NS = "{http://www.w3.org/2000/svg}"


def frame(values: dict[str, list[float]], run: str = "a") -> pd.DataFrame:
    rows = [
        {"run": run, "step": 25 * (i + 1), "name": name, "value": v}
        for name, vs in values.items()
        for i, v in enumerate(vs)
    ]
    return pd.DataFrame(rows)


def points(svg: str) -> list[list[tuple[float, float]]]:
    root = ET.fromstring(svg)  # also checks that the markup is well-formed XML
    lines = root.iter(f"{NS}polyline")
    return [[tuple(map(float, p.split(","))) for p in pl.get("points").split()] for pl in lines]


def test_one_line_per_series_inside_the_plot_with_the_extremes_on_its_edges():
    svg = curves_svg(frame({"loss": [2.0, 1.0, 0.5, 0.25]}), ["loss"])
    (line,) = points(svg)
    xs, ys = [p[0] for p in line], [p[1] for p in line]
    assert xs == sorted(xs) and len(xs) == 4  # episodes left to right
    assert ys == sorted(ys)  # a falling loss is drawn going down (SVG y grows downwards)
    assert 0 <= min(xs) < max(xs) <= WIDTH
    assert max(ys) - min(ys) > 0.8 * PLOT_HEIGHT  # the range fills the plot (5% padding)
    assert "<title>loss</title>" in svg


def test_accuracy_uses_the_fixed_0_to_1_range_and_validation_is_dashed():
    svg = curves_svg(
        frame({"accuracy": [0.5, 0.5], "val_accuracy": [0.5, 0.5], "loss": [9.0, 9.0]}),
        ["accuracy", "val_accuracy"],
    )
    train, val = points(svg)
    assert len(points(svg)) == 2  # loss is not drawn
    root = ET.fromstring(svg)
    rect = next(root.iter(f"{NS}rect"))
    top, height = float(rect.get("y")), float(rect.get("height"))
    assert math.isclose(train[0][1], top + height / 2, abs_tol=0.1)  # 0.5 sits mid-height
    dashed = [pl.get("stroke-dasharray") for pl in root.iter(f"{NS}polyline")]
    assert dashed == [None, "4 3"]


def test_several_runs_are_labelled_by_run_and_the_legend_wraps():
    df = pd.concat(
        [frame({"accuracy": [0.2, 0.4]}, run=f"run number {i} · glyphs") for i in range(5)]
    )
    svg = curves_svg(df, ["accuracy"])
    assert len(points(svg)) == 5
    assert "run number 4 · glyphs · accuracy" in svg
    legend_rows = {float(y) for y in re.findall(r'<text x="\d+" y="(\d+)">run number', svg)}
    assert len(legend_rows) > 1  # too wide for one row


def test_no_points_and_non_finite_values_and_markup_in_names_are_safe():
    assert "no points yet" in curves_svg(frame({"loss": [1.0]}), ["accuracy"])
    svg = curves_svg(frame({"loss": [float("nan"), 1.0, float("inf"), 0.5]}), ["loss"])
    assert len(points(svg)[0]) == 2
    two = pd.concat([frame({"loss": [1.0, 0.5]}, run="<script>x</script>"), frame({"loss": [1.0]})])
    svg = curves_svg(two, ["loss"])
    assert "<script>" not in svg and "&lt;script&gt;x&lt;/script&gt; · loss" in svg
    constant = curves_svg(frame({"loss": [1.0, 1.0, 1.0]}), ["loss"])  # a zero range
    assert all(math.isfinite(y) for _, y in points(constant)[0])


def test_a_nearly_flat_curve_has_no_two_y_labels_alike():
    """A MANN loss hovering at 1.609-1.611 once read "1.61", "1.61" on two grid lines."""
    svg = curves_svg(frame({"loss": [1.6092, 1.6105, 1.6111, 1.6098]}), ["loss"])
    root = ET.fromstring(svg)
    labels = [
        t.text
        for t in root.iter("{http://www.w3.org/2000/svg}text")
        if t.get("text-anchor") == "end"
    ]
    y_labels = [t for t in labels if re.fullmatch(r"-?\d+(\.\d+)?", t or "")]
    assert len(y_labels) >= 3 and len(set(y_labels)) == len(y_labels), y_labels
