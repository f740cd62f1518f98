"""Runs and Compare: every run in a table; selected runs side by side. The selection is kept in
the URL (?runs=id1,id2), so a comparison can be shared as a link."""

import pandas as pd
import streamlit as st

from metalearn.viz import convergence, learning_curves, score_by_steps, score_points
from pages._compare import paired_rows, steps_curves
from pages._ui import can_control, has_artifact, jobs, kind, label, metrics, runs


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
                "train shape": "{}-way {}-shot".format(
                    c.get("train_way") or c["n_way"], c.get("train_shot") or c["n_shot"]
                ),
                "episodes": c["episodes"],
                "metric": k.metric_label,
                "value": res.get(k.metric),
                "95% CI": res.get(k.ci_key),
                "train s": res.get("train_seconds"),
                "device": r["device"],
                "group": r["group_id"],
            }
        )
    return pd.DataFrame(rows)


st.title("Runs and Compare")
all_runs = runs()
if not all_runs:
    st.info("No runs yet: start one on the Train page.")
    st.stop()
df = table(all_runs)
st.dataframe(df, hide_index=True, width="stretch")
c1, c2 = st.columns([1, 3])
c1.download_button("Export table as CSV", df.to_csv(index=False), "runs.csv", "text/csv")


@st.dialog("Delete runs")
def confirm_delete(ids: list[str]) -> None:
    st.write(
        f"Delete {len(ids)} run(s) with their metrics, checkpoints and files? This cannot "
        "be undone."
    )
    if st.button("Delete", type="primary") and can_control():
        for run_id in ids:
            try:
                jobs().delete(run_id)
            except ValueError as err:
                st.error(str(err))
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
        "Resume a stopped, lost or failed run from its last checkpoint", resumable, index=None
    )
    if again and r2.button("Resume"):
        try:
            jobs().resume(again)
            st.switch_page("pages/views/train.py", query_params={"watch": again})
        except ValueError as err:
            st.error(str(err))
if can_control():
    doomed = c2.multiselect("Delete runs…", df["id"].tolist(), placeholder="choose runs to delete")
    if doomed and c2.button("Delete selected"):
        confirm_delete(doomed)

by_id = {r["id"]: r for r in all_runs}
wanted = [i for i in st.query_params.get("runs", "").split(",") if i in by_id]
chosen = st.multiselect(
    "Runs to compare", list(by_id), default=wanted, format_func=lambda i: label(by_id[i])
)
if chosen != wanted:
    st.query_params["runs"] = ",".join(chosen)
if not chosen:
    st.caption("Choose runs above (or follow a shared link) to compare them.")
    st.stop()

picked = [by_id[i] for i in chosen]
m = metrics(tuple(chosen))
st.subheader("Test scores")
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
    st.plotly_chart(score_points(pd.DataFrame(rows), name), key=f"scores-{name}")
for title, curves in steps_curves(done).items():  # e.g. MAML's Figure 5: return vs steps
    name = title.removeprefix("Test ").replace("return", "average return")
    st.plotly_chart(score_by_steps(curves, name), key=f"steps-{title}")
st.subheader("Loss")
x = st.radio(
    "x axis",
    ["step", "time"],
    horizontal=True,
    format_func=lambda v: {"step": "episodes", "time": "wall time"}[v],
)
st.plotly_chart(learning_curves(m, ["loss"], x=x), key="loss")
val_metrics = list(dict.fromkeys(kind(r).val_metric for r in picked))
for name in val_metrics:
    title = "validation " + name.removeprefix("val_").replace("mse", "MSE")
    st.plotly_chart(learning_curves(m, [name], x=x, title=title), key=f"val-{name}")

st.subheader("Convergence speed")
target_metric = val_metrics[0]
higher = kind(picked[0]).higher_is_better
what = target_metric.replace("_", " ").replace("val ", "validation ").replace("mse", "MSE")
if higher:
    low, high, start = kind(picked[0]).target_range
    target = st.slider(f"Target {what}", low, high, start, (high - low) / 100)
else:
    target = st.number_input(f"Target {what} (at most)", 0.0, value=1.0, format="%g")
conv = convergence(m, target, target_metric, higher_is_better=higher)
st.dataframe(
    conv.rename(columns={"episodes": "episodes to target", "seconds": "seconds to target"}),
    hide_index=True,
)

st.subheader("Paired comparison on identical test episodes")


pairs = paired_rows(done)
if pairs:
    st.dataframe(pd.DataFrame(pairs), hide_index=True)
else:
    st.caption("Pairs need two finished runs with the same dataset and test episode shape.")
