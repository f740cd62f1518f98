import numpy as np
import pandas as pd
import pytest

from metalearn.viz import (
    convergence,
    embedding_figure,
    learning_curves,
    paired_difference,
    project,
    score_points,
)


def metrics_frame() -> pd.DataFrame:
    rows = []
    for run, speed in (("A", 1.0), ("B", 2.0)):
        for step in (10, 20, 30):
            t = 100 + step / speed
            rows += [
                {"run": run, "step": step, "time": t, "name": "loss", "value": 1 / step},
                {
                    "run": run,
                    "step": step,
                    "time": t,
                    "name": "val_accuracy",
                    "value": step / 40 * speed,
                },
            ]
    return pd.DataFrame(rows)


def test_learning_curves_one_line_per_run_and_metric():
    fig = learning_curves(metrics_frame(), ["loss", "val_accuracy"])
    assert len(fig.data) == 4
    assert list(fig.data[0].x) == [10, 20, 30]
    by_time = learning_curves(metrics_frame(), ["loss"], x="time")
    assert list(by_time.data[1].x) == [0.0, 5.0, 10.0]  # seconds since run B's first row


def test_scores_are_points_with_whiskers_on_an_axis_around_them():
    fig = score_points(
        pd.DataFrame({"label": ["a", "b"], "value": [0.9, 0.8], "ci95": [0.01, 0.02]})
    )
    assert [t.type for t in fig.data] == ["scatter", "scatter"]  # points, not bars from zero
    assert [list(t.error_y.array) for t in fig.data] == [[pytest.approx(1.0)], [pytest.approx(2.0)]]
    assert fig.data[0].marker.color != fig.data[1].marker.color  # one colour per run
    low, high = fig.layout.yaxis.range
    assert 70 < low < 78 and 91 < high <= 100  # in %, around 78..91, not from 0
    mse = score_points(pd.DataFrame({"label": ["a"], "value": [0.36], "ci95": [0.08]}), "test MSE")
    assert mse.layout.yaxis.range[0] >= 0 and mse.data[0].y[0] == pytest.approx(0.36)


def test_paired_difference():
    a, b = [1.0, 0.8, 0.6, 1.0], [0.9, 0.7, 0.5, 0.9]
    out = paired_difference(a, b)
    assert out["mean_difference"] == pytest.approx(0.1)
    assert out["ci95"] == pytest.approx(0.0, abs=1e-9) and out["significant"]
    assert not paired_difference([1.0, 0.0], [0.0, 1.0])["significant"]


def test_convergence_finds_the_first_step_at_target():
    out = convergence(metrics_frame(), target=0.5).set_index("run")
    assert out.loc["A", "episodes"] == 20 and out.loc["A", "seconds"] == pytest.approx(10)
    assert out.loc["B", "episodes"] == 10
    assert pd.isna(convergence(metrics_frame(), target=2.0).loc[0, "episodes"])


def test_convergence_says_how_often_each_run_was_checked():
    """A run validated every 10 episodes and one validated every 100 do not compare on "first
    reached": the table carries each run's schedule, and a run never validated has 0 checks
    (not measured) where one that fell short has checks (not reached)."""
    frame = metrics_frame()
    sparse = frame[frame["run"] == "B"].assign(run="C", step=lambda d: d["step"] * 10)
    unvalidated = frame[(frame["run"] == "A") & (frame["name"] == "loss")].assign(run="D")
    out = convergence(pd.concat([frame, sparse, unvalidated]), target=0.5).set_index("run")
    assert out.loc["A", "every"] == 10 and out.loc["C", "every"] == 100
    assert out.loc["C", "episodes"] == 100 and out.loc["B", "episodes"] == 10  # same curve
    assert out.loc["D", "checks"] == 0 and pd.isna(out.loc["D", "episodes"])
    assert out.loc["A", "checks"] == 3


def test_one_colour_per_run_in_every_chart_whatever_the_row_order():
    """A run's colour was its position among the rows: matching orange in one chart, green in
    the next, and a live group's colours changed as rows arrived. Now the runs, sorted, take the
    palette; a page passes one mapping to all its charts."""
    from metalearn.viz import curves_svg
    from metalearn.viz.style import run_colours

    frame = metrics_frame()
    shuffled = frame.sample(frac=1.0, random_state=0)
    colour = {}
    for data in (frame, shuffled, frame[::-1]):
        fig = learning_curves(data, ["loss", "val_accuracy"])
        for trace in fig.data:
            run = trace.name.split(" · ")[0]
            assert colour.setdefault(run, trace.line.color) == trace.line.color
    assert colour["A"] != colour["B"]
    shared = run_colours(["B", "A", "Z"])  # the page's runs, one without points yet
    scores = score_points(
        pd.DataFrame({"label": ["B", "A"], "value": [0.9, 0.8], "ci95": [0.01, 0.02]}),
        colours=shared,
    )
    assert {t.name: t.marker.color for t in scores.data} == {"B": shared["B"], "A": shared["A"]}
    loss = learning_curves(frame, ["loss"], colours=shared)
    assert {t.name.split(" · ")[0]: t.line.color for t in loss.data} == {
        "A": shared["A"],
        "B": shared["B"],
    }
    svg = curves_svg(shuffled, ["loss"], colours=shared)
    assert svg.count(f'stroke="{shared["A"]}"') == 2  # A's line and its legend mark
    # a run's second metric keeps its colour and changes its dash
    both = learning_curves(frame[frame["run"] == "A"], ["loss", "accuracy", "val_accuracy"])
    assert len({t.line.color for t in both.data}) == 1
    assert [t.line.dash for t in both.data] == ["solid", "dot"]


@pytest.mark.parametrize("method", ["pca", "tsne"])
def test_embedding_figure(method):
    rng = np.random.default_rng(0)
    support, query = rng.normal(size=(6, 16)), rng.normal(size=(9, 16))
    s_lab, q_lab = np.repeat(np.arange(3), 2), np.repeat(np.arange(3), 3)
    pred = q_lab.copy()
    pred[0] = 1
    fig = embedding_figure(support, query, s_lab, q_lab, pred, ["x", "y", "z"], method)
    names = [t.name for t in fig.data]
    assert "x query wrong" in names and "y prototype" in names
    assert project(support, method).shape == (6, 2)


def test_adaptation_figure_and_gates():
    from metalearn.viz import adaptation_figure, gates_figure

    curve = {
        "x": [0.0, 1.0],
        "true": [0.0, 0.8],
        "support_x": [0.5],
        "support_y": [0.4],
        "predicted": {"0": [0.1, 0.1], "1": [0.0, 0.5], "10": [0.0, 0.7]},
    }
    names = [t.name for t in adaptation_figure(curve).data]
    assert names == [
        "true function",
        "after 0 steps",
        "after 1 steps",
        "after 10 steps",
        "K support points",
    ]
    df = pd.DataFrame(
        [
            {"step": s, "name": f"input_gate_{t}", "value": 0.01 * t * s}
            for s in (1, 2)
            for t in (1, 2, 10)
        ]
    )
    fig = gates_figure(df, "input")
    assert [t.name for t in fig.data] == ["inner step 1", "inner step 2", "inner step 10"]


def test_aligned_pca_removes_flips_between_snapshots_but_keeps_growth():
    import numpy as np

    from metalearn.viz import aligned_pca, episode_points, project

    rng = np.random.default_rng(0)
    early = rng.normal(size=(30, 8)) * np.array([5, 3, 1, 1, 1, 1, 1, 1])
    turn, _ = np.linalg.qr(rng.normal(size=(8, 8)))  # the same cloud, turned in feature space
    late = 3.0 * early @ turn  # ... and grown three times
    flat = [project(f, "pca") for f in (early, late)]
    assert not np.allclose(3 * flat[0], flat[1], atol=1e-3)  # plain PCA: axes flip
    aligned = aligned_pca([early, late])
    assert np.allclose(3 * aligned[0], aligned[1], atol=1e-6)  # aligned: only the growth left
    labels = np.array([0, 0, 1, 1])
    stacked = episode_points(early[:4], early[4:6], labels)
    assert stacked.shape == (8, 8) and np.allclose(stacked[-1], early[2:4].mean(0))


def test_a_drawing_lands_as_one_black_cross_among_the_prototypes():
    from metalearn.viz import drawing_landing

    rng = np.random.default_rng(0)
    support = rng.normal(size=(6, 16))
    fig = drawing_landing(
        support, support[4:5] + 0.01, np.array([0, 0, 1, 1, 2, 2]), 2, ["a", "b", "c"]
    )
    names = [t.name for t in fig.data]
    assert names.count("your drawing") == 1 and sum("prototype" in n for n in names) == 3
    drawn = next(t for t in fig.data if t.name == "your drawing")
    assert len(drawn.x) == 1 and drawn.marker.color == "black"
    assert not any("right" in n or "wrong" in n for n in names)  # its true class is unknown


def test_the_scoreboard_puts_the_lowest_error_on_top_with_whiskers():
    from metalearn.viz.versus import on_paper, scoreboard

    rows = [
        {"who": "You", "group": "you", "error": 0.1, "ci_low": 0.01, "ci_high": 0.32},
        {"who": "People", "group": "published", "error": 0.045},
        {"who": "Model", "group": "model", "error": 0.18, "ci_low": 0.14, "ci_high": 0.22},
    ]
    fig = scoreboard(rows)
    assert list(fig.layout.yaxis.categoryarray) == ["Model", "You", "People"]  # bottom to top
    you = next(t for t in fig.data if t.name == "You")
    assert you.error_x.array[0] == pytest.approx(22) and you.error_x.arrayminus[0] == pytest.approx(
        9
    )
    assert fig.layout.xaxis.range[1] >= 32
    paper = on_paper(np.full((1, 4, 4), 255, np.uint8))
    assert paper.shape == (4, 4) and paper.max() == 0  # ink drawn dark on white


def test_adaptation_steps_animates_every_step_on_fixed_axes():
    from metalearn.viz import adaptation_steps

    x = [0.0, 1.0]
    base = {"x": x, "true": [0.0, 0.8], "support_x": [0.5], "support_y": [0.4]}
    maml = {**base, "predicted": {str(k): [0.0, 0.08 * k] for k in range(11)}}
    old = {**base, "predicted": {"0": [0.3, 0.3], "1": [0.2, 0.4], "10": [0.0, 2.0]}}
    cnp = {**base, "mean": [0.1, 0.7], "std": [0.1, 0.1]}
    fig = adaptation_steps({"maml": maml, "older run": old, "cnp": cnp})
    assert [f.name for f in fig.frames] == [str(k) for k in range(11)]
    five = fig.frames[5]
    assert list(five.traces) == [1, 2]  # the two adapting runs' lines move, nothing else
    assert list(five.data[0].y) == [0.0, 0.4]
    assert list(five.data[1].y) == [0.2, 0.4]  # stored 0, 1, 10 only: step 1 stands for 5
    assert list(fig.frames[10].data[1].y) == [0.0, 2.0]
    assert fig.layout.yaxis.range[1] > 2.0  # room for every frame: the axes never jump
    assert len(fig.layout.sliders[0].steps) == 11 and fig.layout.updatemenus[0].buttons
    names = [t.name for t in fig.data]
    assert "cnp ± 2σ" in names and "K support points" in names


def test_curve_legends_sit_below_the_axis_title():
    """A horizontal legend in plotly's default place covered the x axis' title."""
    from metalearn.viz import learning_curves, score_by_steps

    df = pd.DataFrame(
        [
            {"run": r, "step": s, "time": s, "name": "loss", "value": 1.0 / s}
            for r in "ab"
            for s in (1, 2)
        ]
    )
    for fig in (
        learning_curves(df, ["loss"]),
        score_by_steps({"a": ({"0": 1.0, "1": 2.0}, None)}),
    ):
        assert fig.layout.legend.y <= -0.25 and fig.layout.legend.yanchor == "top"
