"""Sweep statistics on runs whose scores are known: means and CIs across seeds, paired verdicts
on identical episodes, the paper table and its CSV / Markdown / LaTeX exports."""

import io
import math

import pandas as pd
import pytest
from scipy import stats

from metalearn.config import RunConfig
from metalearn.engine.kinds import kind_of
from metalearn.engine.records import RunRecord
from metalearn.engine.sweep_stats import (
    across_seeds,
    paired_tests,
    paper_table,
    sweep_frame,
    table_csv,
    table_latex,
    table_markdown,
)
from metalearn.viz import score_vs_shots


def fake_run(algorithm, seed, n_shot, scores, status="completed", **spec):
    cfg = RunConfig(algorithm=algorithm, seed=seed, n_shot=n_shot, **spec)
    kind = kind_of(cfg)
    mean = sum(scores) / len(scores)
    result = {kind.metric: mean, kind.ci_key: 0.01, "pairing_key": kind.pairing_key(cfg)}
    row = {
        "id": f"{algorithm}-{seed}-{n_shot}",
        "status": status,
        "config": cfg.to_dict(),
        "result": result if status == "completed" else None,
        "device": "cpu",
        "group_id": "sweep-x",
        "error": None,
    }
    return RunRecord.from_row(row), scores


@pytest.fixture
def sweep():
    """protonet beats matching by 0.1 on every episode at 1-shot, whatever the seed; at 5-shot
    they tie on average (each wins half the episodes)."""
    runs, scores = [], {}
    for seed in range(3):
        base = [0.5 + 0.01 * seed + 0.05 * (e % 4) for e in range(40)]
        tie = [0.1 if e % 2 else -0.1 for e in range(40)]
        for rec, s in (
            fake_run("protonet", seed, 1, [b + 0.1 for b in base]),
            fake_run("matching", seed, 1, base),
            fake_run("protonet", seed, 5, [b + 0.3 + t for b, t in zip(base, tie, strict=True)]),
            fake_run("matching", seed, 5, [b + 0.3 - t for b, t in zip(base, tie, strict=True)]),
        ):
            runs.append(rec)
            scores[rec.id] = s
    runs.append(fake_run("matching", 9, 5, [0.0] * 40, status="failed")[0])
    return sweep_frame(runs), scores


def test_means_and_confidence_intervals_across_seeds(sweep):
    frame, _ = sweep
    summary = across_seeds(frame).set_index(["method", "setting"])
    row = summary.loc[("protonet", "5-way 1-shot")]
    means = [sum(0.6 + 0.01 * s + 0.05 * (e % 4) for e in range(40)) / 40 for s in range(3)]
    assert row["seeds"] == 3 and row["mean"] == pytest.approx(sum(means) / 3)
    sd = pd.Series(means).std()
    assert row["ci95_seeds"] == pytest.approx(stats.t.ppf(0.975, 2) * sd / math.sqrt(3))
    assert summary.loc[("matching", "5-way 5-shot")]["seeds"] == 3  # the failed run is left out


def test_paired_verdicts_use_identical_episodes_and_seeds(sweep):
    frame, scores = sweep
    pairs = paired_tests(frame, scores.__getitem__).set_index("setting")
    one = pairs.loc["5-way 1-shot"]
    assert (one["A"], one["B"], one["seeds"], one["episodes"]) == ("protonet", "matching", 3, 40)
    assert one["mean A − B"] == pytest.approx(0.1)
    assert one["verdict"] == "protonet better" and one["basis"] == "paired t-test over 3 seeds"
    five = pairs.loc["5-way 5-shot"]
    assert five["mean A − B"] == pytest.approx(0.0, abs=1e-12)
    assert five["verdict"] == "no significant difference"


def test_the_paper_table_and_its_exports_agree(sweep):
    frame, _ = sweep
    cells, best = paper_table(across_seeds(frame))
    assert list(cells.columns) == ["5-way 1-shot", "5-way 5-shot"]
    assert list(cells.index) == ["protonet", "matching"]
    assert cells.loc["protonet", "5-way 1-shot"].startswith("68.")  # percent, with ±
    assert " ± " in cells.loc["protonet", "5-way 1-shot"]
    assert best.loc["protonet", "5-way 1-shot"] and not best.loc["matching", "5-way 1-shot"]
    assert best.loc[:, "5-way 5-shot"].all()  # a tie: both bold
    back = pd.read_csv(io.StringIO(table_csv(cells)), index_col="method")
    assert back.equals(cells)
    md = table_markdown(cells, best)
    latex = table_latex(cells, best, "a caption")
    for method, row in cells.iterrows():
        for setting, text in row.items():
            bold = best.loc[method, setting]
            assert (f"**{text}**" if bold else f"| {text} |") in md
            tex = text.replace(" ± ", r" $\pm$ ")
            assert (f"\\textbf{{{tex}}}" if bold else f"& {tex}") in latex
    assert latex.count("\\\\\n") == 1 + len(cells)  # the header and one line per method


def test_the_papers_figures_stand_beside_the_settings_they_report():
    """miniImageNet: ProtoNet and the linear-head baseline (Chen et al.'s "Baseline") have
    published 5-way figures; a 3-way setting has none, so no paper column."""
    runs = [
        fake_run("protonet", 0, 1, [0.4] * 10, dataset="miniimagenet")[0],
        fake_run("finetune", 0, 1, [0.3] * 10, dataset="miniimagenet", hyper={"head": "linear"})[0],
        fake_run("protonet", 0, 1, [0.5] * 10, dataset="miniimagenet", n_way=3)[0],
    ]
    cells, best = paper_table(across_seeds(sweep_frame(runs)))
    assert list(cells.columns) == ["3-way 1-shot", "5-way 1-shot", "5-way 1-shot (paper)"]
    assert cells.loc["protonet", "5-way 1-shot (paper)"] == "49.4"
    assert cells.loc["finetune", "5-way 1-shot (paper)"] == "42.1"
    assert not best.loc[:, "5-way 1-shot (paper)"].any()  # bold marks the lab's best only
    assert "| 49.4 |" in table_markdown(cells, best)


def test_the_curve_has_one_band_and_one_line_per_method(sweep):
    frame, _ = sweep
    fig = score_vs_shots(across_seeds(frame))
    bands = [t for t in fig.data if t.fill == "toself"]
    lines = [t for t in fig.data if t.mode == "lines+markers"]
    assert [t.name for t in lines] == ["protonet", "matching"] and len(bands) == 2
    assert list(lines[0].x) == [1, 5] and fig.layout.yaxis.title.text == "Test accuracy (%)"
    assert max(bands[0].y) > max(lines[0].y) > min(bands[0].y)
