"""Runs and Compare: every run in a table; selected runs side by side. The selection is kept in
the URL (?runs=id1,id2), so a comparison can be shared as a link."""

import pandas as pd
import streamlit as st

from metalearn.store import home
from metalearn.viz import accuracy_bars, convergence, learning_curves
from pages._compare import paired_rows
from pages._ui import can_control, jobs, label, metrics, page_setup, runs

page_setup()


def table(all_runs: list[dict]) -> pd.DataFrame:
    rows = []
    for r in all_runs:
        c, res = r["config"], r["result"] or {}
        rows.append(
            {
                "id": r["id"],
                "status": r["status"],
                "algorithm": c["algorithm"],
                "dataset": c["dataset"],
                "test shape": f"{c['n_way']}-way {c['n_shot']}-shot",
                "train shape": "{}-way {}-shot".format(
                    c["train_way"] or c["n_way"], c["train_shot"] or c["n_shot"]
                ),
                "episodes": c["episodes"],
                "test accuracy": res.get("test_accuracy"),
                "95% CI": res.get("test_ci95"),
                "test MSE": res.get("test_mse"),
                "MSE 95% CI": res.get("test_mse_ci95"),
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
    if r["status"] in ("stopped", "lost", "failed")
    and (home() / r["id"] / "checkpoint.pt").exists()
]
if resumable and can_control():
    r1, r2 = st.columns([3, 1])
    again = r1.selectbox(
        "Resume a stopped, lost or failed run from its last checkpoint", resumable, index=None
    )
    if again and r2.button("Resume"):
        try:
            jobs().resume(again)
            st.session_state["watch"] = [again] + st.session_state.get("watch", [])
            st.switch_page("pages/train.py")
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
st.subheader("Accuracy")
done = [
    r
    for r in picked
    if r["result"] and ("test_accuracy" in r["result"] or "test_mse" in r["result"])
]
for key, ci, title in (
    ("test_accuracy", "test_ci95", "test accuracy"),
    ("test_mse", "test_mse_ci95", "test MSE"),
):
    rows = [
        {"label": label(r), "value": r["result"][key], "ci95": r["result"][ci]}
        for r in done
        if key in r["result"]
    ]
    if rows:
        st.plotly_chart(accuracy_bars(pd.DataFrame(rows), title), key=f"bars-{key}")
st.subheader("Loss")
x = st.radio(
    "x axis",
    ["step", "time"],
    horizontal=True,
    format_func=lambda v: {"step": "episodes", "time": "wall time"}[v],
)
st.plotly_chart(learning_curves(m, ["loss"], x=x), key="loss")
st.plotly_chart(learning_curves(m, ["val_accuracy"], x=x, title="validation accuracy"), key="val")

st.subheader("Convergence speed")
target = st.slider("Target validation accuracy", 0.3, 1.0, 0.8, 0.01)
conv = convergence(m, target)
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
