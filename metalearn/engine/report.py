"""A comparison report of finished runs, as one self-contained HTML file that opens offline and
prints: what each run is, how it scored (with 95% CIs), the paired verdicts on shared test
episodes, its curves, every setting (those that differ marked) and the environment that ran
it. The Runs and Compare page and `metalearn report RUN_ID... -o FILE.html` write the same file.
"""

from __future__ import annotations

import platform
import time

import pandas as pd

from metalearn import package_version
from metalearn.engine.progress import training_budget
from metalearn.engine.records import RunRecord, paired_rows
from metalearn.store import NoSuchRun, Store
from metalearn.viz import learning_curves, score_points
from metalearn.viz.report import report_html, table_html
from metalearn.viz.style import run_colours

PACKAGES = ("metalearn", "torch", "numpy", "timm", "sentence-transformers", "plotly")


def environment(records: list[RunRecord]) -> pd.DataFrame:
    """Where the report was written and what ran the runs: versions, platform, devices."""
    devices = sorted({r.device or "?" for r in records})
    rows = [
        ("written", time.strftime("%Y-%m-%d %H:%M:%S %Z")),
        ("python", platform.python_version()),
        ("platform", platform.platform()),
        ("devices the runs used", ", ".join(devices)),
        *((p, package_version(p)) for p in PACKAGES),
    ]
    return pd.DataFrame(rows, columns=["", "value"])


def _runs_table(records: list[RunRecord]) -> pd.DataFrame:
    rows = []
    for r in records:
        fields = r.result.fields if r.result else {}
        rows.append(
            {
                "run": r.label,
                "status": r.status,
                "test shape": r.kind.shape_label(r.row["config"]),
                "training episodes": fields.get("train_episodes"),
                "training budget": training_budget(r.row["config"]),
                "metric": r.kind.metric_label,
                "result": fields.get(r.kind.metric),
                "± 95% CI": fields.get(r.kind.ci_key),
                "training s": fields.get("train_seconds"),
                "device": r.device or "",
                "pretrained on": fields.get("pretrained_on") or "",
                "test classes seen in pretraining": (
                    "yes" if fields.get("test_classes_seen_in_pretraining") else ""
                ),
                "note": r.row.get("note") or "",
            }
        )
    return pd.DataFrame(rows)


def _settings_table(records: list[RunRecord]) -> tuple[pd.DataFrame, set[str]]:
    """Every setting of every run, one column per run; the settings that differ."""
    columns = {}
    for r in records:
        c = {k: v for k, v in r.row["config"].items() if k != "hyper"}
        columns[r.label] = {**c, **r.row["config"].get("hyper", {})}
    names = sorted({k for c in columns.values() for k in c})
    table = pd.DataFrame(
        {
            "setting": names,
            **{lab: [str(c.get(n, "")) for n in names] for lab, c in columns.items()},
        }
    )
    differ = {n for n in names if len({str(c.get(n, "")) for c in columns.values()}) > 1}
    return table, differ


def comparison_report(store: Store, run_ids: list[str]) -> str:
    """The report of these runs, as one HTML page.

    Raises:
        NoSuchRun: an id the store does not have.
    """
    rows = []
    for run_id in dict.fromkeys(run_ids):
        row = store.get_run(run_id)
        if row is None:
            raise NoSuchRun(run_id)
        rows.append(row)
    records = [RunRecord.from_row(r) for r in rows]
    colours = run_colours(r.label for r in records)
    finished = [r for r in records if r.result and r.kind.metric in r.result.fields]
    scores: list = []
    by_metric: dict[str, list[RunRecord]] = {}
    for r in finished:
        by_metric.setdefault(r.kind.metric_label, []).append(r)
    for title, members in by_metric.items():
        frame = pd.DataFrame(
            {
                "label": [r.label for r in members],
                "value": [r.result.fields[r.kind.metric] for r in members],
                "ci95": [r.result.fields[r.kind.ci_key] for r in members],
            }
        )
        scores.append(score_points(frame, title[0].lower() + title[1:], colours))
    pairs = pd.DataFrame(paired_rows(finished, store.episodes))
    metrics = pd.DataFrame(store.metrics_of([r.id for r in records]))
    curves: list = []
    if len(metrics):
        metrics["run"] = metrics["run_id"].map({r.id: r.label for r in records})
        curves.append(learning_curves(metrics, ["loss"], title="loss", colours=colours))
        for name in dict.fromkeys(r.kind.val_metric for r in records):
            if (metrics["name"] == name).any():
                title = "validation " + name.removeprefix("val_").replace("mse", "MSE")
                curves.append(learning_curves(metrics, [name], title=title, colours=colours))
    settings, differ = _settings_table(records)
    numbers = {"result": "{:.3f}", "± 95% CI": "{:.3f}", "training s": "{:.0f}"}
    numbers["training episodes"] = "{:,.0f}"
    paired = (
        [
            table_html(pairs, {"mean A − B": "{:+.3f}", "95% CI ±": "{:.3f}"}),
            "<p class='muted'>Per-episode differences on the same seeded test episodes; "
            "a verdict needs the 95% interval to exclude 0.</p>",
        ]
        if len(pairs)
        else ["<p class='muted'>No two finished runs share test episodes.</p>"]
    )
    sections = [
        ("Runs", [table_html(_runs_table(records), numbers)]),
        ("Test scores (95% CI)", scores or ["<p class='muted'>No finished run yet.</p>"]),
        ("Paired comparisons", paired),
        ("Training curves", curves or ["<p class='muted'>No curves recorded.</p>"]),
        (
            "Settings (those that differ highlighted)",
            [
                table_html(
                    settings,
                    marked=lambda i, c: c != "setting" and settings.at[i, "setting"] in differ,
                )
            ],
        ),
        ("Environment", [table_html(environment(records))]),
    ]
    intro = (
        f"{len(records)} run{'s' if len(records) != 1 else ''} from the metalearn lab, "
        f"written {time.strftime('%Y-%m-%d %H:%M')}. Scores are on each run's seeded test "
        "episodes; ± is the 95% confidence interval."
    )
    return report_html("metalearn: comparison report", intro, sections)
