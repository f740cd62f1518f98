"""Runs and Compare: every run in a table; selected runs side by side. The selection is kept in
the URL (?runs=id1,id2), so a comparison can be shared as a link."""

import pandas as pd
import streamlit as st

from metalearn.viz import convergence, learning_curves, score_by_steps, score_points
from pages._access import can_control
from pages._compare import paired_rows, steps_curves
from pages._i18n import N_, figure, t, tc
from pages._ui import has_artifact, jobs, kind, label, metrics, runs

# The runs table's columns: name -> header (English; shown through the table) and, for numbers,
# how they are written.
COLUMNS = {
    "id": N_("Run"),
    "status": N_("Status"),
    "algorithm": N_("Algorithm"),
    "dataset": N_("Dataset"),
    "kind": N_("Kind"),
    "test shape": N_("Test shape"),
    "train shape": N_("Training shape"),
    "episodes": N_("Training episodes"),
    "metric": N_("Metric"),
    "value": N_("Result"),
    "95% CI": N_("± (95% CI)"),
    "train s": N_("Training time (s)"),
    "device": N_("Device"),
    "pretrained": N_("Pretrained on"),
    "group": N_("Group"),
}
X_AXES = {"step": N_("training episodes"), "time": N_("wall time (s)")}
FORMATS = {"value": "%.3f", "95% CI": "± %.3f", "train s": "%.0f s", "episodes": "%d"}


def shown(df: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """The table as the page shows it: only the columns some run fills, status and kind in the
    page's language, headers through the table, numbers with their units."""
    df = df.dropna(axis="columns", how="all")
    df = df.loc[:, [c for c in df.columns if (df[c].astype(str) != "").any()]]
    df = df.assign(
        **{
            c: df[c].map(lambda v: t(v) if isinstance(v, str) else v)
            for c in ("status", "kind", "metric", "test shape", "train shape")
            if c in df
        }
    )
    config = {
        t(COLUMNS[c]): st.column_config.NumberColumn(format=f)
        for c, f in FORMATS.items()
        if c in df
    }
    return df.rename(columns={c: t(h) for c, h in COLUMNS.items()}), config


def pretrained_on(result: dict) -> str:
    """What a run's pretrained backbone was trained on, and whether that held its test classes
    (a score that is not few-shot on unseen classes); empty for a run trained from scratch."""
    if not result.get("pretrained_on"):
        return ""
    if result.get("test_classes_seen_in_pretraining"):
        return t("{data}: test classes seen in pretraining", data=result["pretrained_on"])
    return result["pretrained_on"]


def table(all_runs: list[dict]) -> pd.DataFrame:
    rows = []
    for r in all_runs:
        c, res, k = r["config"], r["result"] or {}, kind(r)
        rows.append(
            {
                "id": r["id"],
                "status": r["status"],
                "algorithm": c["algorithm"],
                "dataset": c["dataset"],
                "kind": k.label,
                "test shape": k.shape_label(c),
                "train shape": k.shape_label(
                    {
                        **c,
                        "n_way": c.get("train_way") or c["n_way"],
                        "n_shot": c.get("train_shot") or c["n_shot"],
                    }
                ),
                "episodes": c["episodes"],
                "metric": k.metric_label,
                "value": res.get(k.metric),
                "95% CI": res.get(k.ci_key),
                "train s": res.get("train_seconds"),
                "device": r["device"],
                "pretrained": pretrained_on(res),
                "group": r["group_id"],
            }
        )
    return pd.DataFrame(rows)


st.title(t("Runs and Compare"))
all_runs = runs()
if not all_runs:
    st.info(t("No runs yet: start one on the Train page."))
    st.stop()
df = table(all_runs)
view, formats = shown(df)
st.dataframe(view, hide_index=True, width="stretch", column_config=formats)
c1, c2 = st.columns([1, 3])
c1.download_button(t("Export table as CSV"), df.to_csv(index=False), "runs.csv", "text/csv")


def confirm_delete(ids: list[str]) -> None:
    st.dialog(t("Delete runs"))(_confirm_delete)(ids)


def _confirm_delete(ids: list[str]) -> None:
    st.write(
        t(
            "Delete {n} run(s) with their metrics, checkpoints and files? This cannot be undone.",
            n=len(ids),
        )
    )
    if st.button(t("Delete"), type="primary") and can_control():
        for run_id in ids:
            try:
                jobs().delete(run_id)
            except ValueError as err:
                st.error(tc(str(err)))
                return
        st.query_params.clear()
        st.rerun()


resumable = [
    r["id"]
    for r in all_runs
    if r["status"] in ("stopped", "lost", "failed") and has_artifact(r, "checkpoint")
]
if resumable and can_control():
    r1, r2 = st.columns([3, 1])
    again = r1.selectbox(
        t("Resume a stopped, lost or failed run from its last checkpoint"), resumable, index=None
    )
    if again and r2.button(t("Resume")):
        try:
            jobs().resume(again)
            st.switch_page("pages/views/train.py", query_params={"watch": again})
        except ValueError as err:
            st.error(tc(str(err)))
if can_control():
    doomed = c2.multiselect(
        t("Delete runs…"), df["id"].tolist(), placeholder=t("choose runs to delete")
    )
    if doomed and c2.button(t("Delete selected")):
        confirm_delete(doomed)

by_id = {r["id"]: r for r in all_runs}
wanted = [i for i in st.query_params.get("runs", "").split(",") if i in by_id]
chosen = st.multiselect(
    t("Runs to compare"),
    list(by_id),
    default=wanted,
    format_func=lambda i: label(by_id[i]),
    placeholder=t("Choose options"),
)
if chosen != wanted:
    st.query_params["runs"] = ",".join(chosen)
if not chosen:
    st.caption(t("Choose runs above (or follow a shared link) to compare them."))
    st.stop()

picked = [by_id[i] for i in chosen]
m = metrics(tuple(chosen))
st.subheader(t("Test scores"))
done = [r for r in picked if r["result"] and kind(r).metric in r["result"]]
by_metric: dict[str, list[dict]] = {}  # one chart per metric (accuracy, MSE, ...)
for r in done:
    by_metric.setdefault(kind(r).metric_label, []).append(r)
for title, members in by_metric.items():
    rows = [
        {
            "label": label(r),
            "value": r["result"][kind(r).metric],
            "ci95": r["result"][kind(r).ci_key],
        }
        for r in members
    ]
    name = title[0].lower() + title[1:]
    st.plotly_chart(
        figure(score_points(pd.DataFrame(rows), name)), theme=None, key=f"scores-{name}"
    )
for title, curves in steps_curves(done).items():  # e.g. MAML's Figure 5: return vs steps
    name = title.removeprefix("Test ").replace("return", "average return")
    st.plotly_chart(figure(score_by_steps(curves, name)), theme=None, key=f"steps-{title}")
st.subheader(t("Loss"))
x = st.radio(t("x axis"), ["step", "time"], horizontal=True, format_func=lambda v: t(X_AXES[v]))
by_kind: dict[str, list[str]] = {}  # losses of different kinds differ in scale: apart
for r in picked:
    by_kind.setdefault(kind(r).label, []).append(r["id"])
for kind_label, ids in by_kind.items():
    title = "loss" if len(by_kind) == 1 else f"loss · {kind_label}"
    part = m[m["run_id"].isin(ids)]
    st.plotly_chart(
        figure(learning_curves(part, ["loss"], x=x, title=title)),
        theme=None,
        key=f"loss-{kind_label}",
    )
val_metrics = list(dict.fromkeys(kind(r).val_metric for r in picked))
for name in val_metrics:
    title = "validation " + name.removeprefix("val_").replace("mse", "MSE")
    st.plotly_chart(
        figure(learning_curves(m, [name], x=x, title=title)), theme=None, key=f"val-{name}"
    )

st.subheader(t("Convergence speed"))
target_metric = val_metrics[0]
higher = kind(picked[0]).higher_is_better
what = target_metric.replace("_", " ").replace("val ", "validation ").replace("mse", "MSE")
if higher:
    low, high, start = kind(picked[0]).target_range
    target = st.slider(t("Target {what}", what=t(what)), low, high, start, (high - low) / 100)
else:
    target = st.number_input(
        t("Target {what} (at most)", what=t(what)), 0.0, value=1.0, format="%g"
    )
conv = convergence(m, target, target_metric, higher_is_better=higher)
st.dataframe(
    conv.rename(
        columns={
            "run": t("run"),
            "episodes": t("episodes to target"),
            "seconds": t("seconds to target"),
        }
    ),
    hide_index=True,
)

st.subheader(t("Paired comparison on identical test episodes"))


pairs = paired_rows(done)
if pairs:
    st.dataframe(pd.DataFrame(pairs), hide_index=True)
else:
    st.caption(t("Pairs need two finished runs with the same dataset and test episode shape."))
