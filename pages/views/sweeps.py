"""Sweeps: a grid of runs (methods x seeds x shots) launched as one, and its statistics as a
paper reports them: mean over seeds with a 95% CI, accuracy vs K with bands, paired verdicts
on identical test episodes, a method x setting table exported as CSV, Markdown and LaTeX.
The sweep shown is kept in the URL (?sweep=ID), so it can be shared as a link."""

import math

import pandas as pd
import streamlit as st

from metalearn.config import ConfigError
from metalearn.engine.records import RunRecord
from metalearn.engine.sweep import estimate_seconds
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
from pages._access import can_control, viewer_notice
from pages._estimate import device_name, duration
from pages._i18n import figure, t, tc
from pages._sweep_form import sweep_form, sweeps
from pages._ui import episodes, jobs

st.title(t("Sweeps"))
with st.expander(t("New sweep"), expanded=not sweeps()):
    if not can_control():
        viewer_notice(t("launching sweeps"))
    else:
        plan = sweep_form()
        try:
            configs = plan.configs()
            problems = []
        except ConfigError as err:
            configs, problems = [], err.problems
        if problems:
            st.error(
                t("Fix these before launching:") + "\n" + "\n".join(f"- {tc(p)}" for p in problems)
            )
        else:
            parallel = 1 if plan.executor == "local" else 2
            guess = estimate_seconds(
                jobs().store, configs, parallel, device_name(configs[0].device)
            )
            when = (
                t("about {time} here, going by past runs", time=duration(guess))
                if guess is not None
                else t("no estimate yet: some method has no finished run on this dataset to go by")
            )
            st.info(
                t(
                    "**{n} runs** through the {executor} executor; {when}."
                    if len(configs) != 1
                    else "**1 run** through the {executor} executor; {when}.",
                    n=len(configs),
                    executor=t(plan.executor),
                    when=when,
                )
            )
        if st.button(t("Launch sweep"), type="primary", disabled=bool(problems)) and can_control():
            try:
                sweep_id, _ = jobs().launch_sweep(plan)
                st.query_params["sweep"] = sweep_id
                st.rerun()
            except (ConfigError, ValueError) as err:
                st.error(tc(str(err)))

all_sweeps = sweeps()
if not all_sweeps:
    st.info(t("No sweep yet: choose its axes above and launch it."))
    st.stop()
by_id = {s["id"]: s for s in all_sweeps}
wanted = st.query_params.get("sweep")
shown = st.selectbox(
    t("Sweep"),
    list(by_id),
    index=list(by_id).index(wanted) if wanted in by_id else 0,
    format_func=lambda i: f"{by_id[i]['name']} · {i}",
)
if shown != wanted:
    st.query_params["sweep"] = shown
sweep = by_id[shown]
members = sweep["runs"]
counts = pd.Series([r["status"] for r in members]).value_counts()
done = int(counts.get("completed", 0))
active = int(counts.get("queued", 0) + counts.get("running", 0))
others = [f"{n} {s}" for s, n in counts.items() if s != "completed"]
st.progress(
    (len(members) - active) / max(1, len(members)),
    text=" · ".join(
        [
            f"{done} of {len(members)} runs completed",
            *others,
            f"{sweep['plan']['executor']} executor",
        ]
    ),
)
b1, b2, _ = st.columns([1, 1, 4])
if active and b1.button(t("Stop the sweep")) and can_control():
    jobs().stop_group(shown)
    st.rerun()
if not active and done < len(members) and b2.button(t("Resume the sweep")) and can_control():
    try:
        jobs().resume_sweep(shown)
        st.rerun()
    except ValueError as err:
        st.error(tc(str(err)))
if active:
    st.caption(t("Statistics fill in as runs finish; reload to update."))

frame = sweep_frame([RunRecord.from_row(r) for r in members])
summary = across_seeds(frame)
if summary.empty:
    st.info(t("No run of this sweep has finished yet."))
    st.stop()

st.subheader(t("Score vs shots per class"))
st.caption(
    t(
        "Each line: a method's mean over seeds; its band: the 95% confidence interval across seeds "
        "(with one seed, the run's own interval over its test episodes)."
    )
)
for group, part in summary.groupby("group", sort=False):
    title = f"{group}: {t(part['metric'].iloc[0])}"
    st.plotly_chart(figure(score_vs_shots(part, title)), theme=None, key=f"k-{group}")

st.subheader(t("Results table"))
cells, best = paper_table(summary)
seeds = sorted(set(summary["seeds"]))
percent = "accuracy" in summary["metric"].iloc[0].lower()
st.caption(
    (
        t("Mean ± 95% CI across {seeds} seeds per cell", seeds=", ".join(map(str, seeds)))
        if seeds != [1]
        else t("Mean ± 95% CI over the test episodes of each cell's one run (one seed)")
    )
    + (t(" (accuracy in %)") if percent else "")
    + t("; the best of each column in bold.")
)
st.markdown(table_markdown(cells, best))
sources = summary.dropna(subset=["published_source"]).drop_duplicates("method")
if not sources.empty:  # where each "(paper)" column's figures come from
    st.caption(
        t("(paper): the figure its paper reports for that setting, trained as the paper did")
        + " — "
        + "; ".join(f"{r.method}: {r.published_source}" for r in sources.itertuples())
    )
caption = f"{sweep['name']} (sweep {shown})"
d1, d2, d3, _ = st.columns([1, 1, 1, 3])
d1.download_button(t("CSV"), table_csv(cells), f"{shown}.csv", "text/csv")
d2.download_button(t("Markdown"), table_markdown(cells, best), f"{shown}.md", "text/markdown")
d3.download_button(t("LaTeX"), table_latex(cells, best, caption), f"{shown}.tex", "text/x-tex")

st.subheader(t("Paired comparisons on identical test episodes"))
pairs = paired_tests(frame, episodes)
if pairs.empty:
    st.caption(t("Pairs need two methods finished on the same setting and seed."))
else:
    pairs["p (seeds)"] = ["–" if math.isnan(p) else f"{p:.3g}" for p in pairs["p (seeds)"]]
    st.dataframe(
        pairs,
        hide_index=True,
        column_config={
            "mean A − B": st.column_config.NumberColumn(format="%.4f"),
            "95% CI ± (episodes)": st.column_config.NumberColumn(format="%.4f"),
        },
    )

with st.expander(t("Every run of the sweep")):
    runs_table = frame[["run_id", "method", "setting", "seed", "status", "value", "ci95"]]
    st.dataframe(
        runs_table.rename(
            columns={
                "run_id": t("run"),
                "method": t("method"),
                "setting": t("setting"),
                "seed": t("seed"),
                "status": t("status"),
                "value": t(frame["metric"].iloc[0]),
                "ci95": t("95% CI ±"),
            }
        ),
        hide_index=True,
    )
    ids = ",".join(frame["run_id"])
    st.page_link("pages/views/runs.py", label=t("Open these runs in Runs and Compare"))
    st.caption(t("Runs and Compare link:") + f" `/runs?runs={ids}`")
