"""Runs and Compare: every run in a table; selected runs side by side. The selection is kept in
the URL (?runs=id1,id2), so a comparison can be shared as a link."""

import itertools

import pandas as pd
import streamlit as st

from metalearn.viz import accuracy_bars, convergence, learning_curves, paired_difference
from pages._ui import episodes, label, metrics, page_setup, runs

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
st.download_button("Export table as CSV", df.to_csv(index=False), "runs.csv", "text/csv")

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


def shape(run: dict) -> tuple:
    c = run["config"]  # regression tasks depend on K only; classification on the full shape
    if c["dataset"] == "sinusoid":
        return ("sinusoid", c["n_shot"], c["inner_steps_test"])
    return (c["dataset"], c["n_way"], c["n_shot"], c["n_query"])


pairs = []
for a, b in itertools.combinations(done, 2):
    if shape(a) != shape(b):
        continue  # different test episodes: no pairing possible
    diff = paired_difference(episodes(a["id"]), episodes(b["id"]))
    higher_is_better = a["config"]["dataset"] != "sinusoid"  # accuracy vs MSE
    a_better = (diff["mean_difference"] > 0) == higher_is_better
    verdict = (
        ("A better" if a_better else "B better")
        if diff.get("significant")
        else ("no significant difference")
    )
    pairs.append(
        {
            "A": label(a),
            "B": label(b),
            "episodes": diff["episodes"],
            "mean A − B": diff["mean_difference"],
            "95% CI ±": diff["ci95"],
            "verdict": verdict,
        }
    )
if pairs:
    st.dataframe(pd.DataFrame(pairs), hide_index=True)
else:
    st.caption("Pairs need two finished runs with the same dataset and test episode shape.")
