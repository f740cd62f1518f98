"""Home: what the lab holds, read from the backend's registries (no training in this process)."""

import pandas as pd
import streamlit as st

from metalearn.algorithms import ALGORITHMS
from metalearn.data import DATASETS
from metalearn.store import Store

st.title("metalearn — a meta-learning lab")
st.write(
    "Meta-learning trains a model on many small tasks so that it can pick up a *new* task from a "
    "handful of labelled examples. Pick an algorithm, train it on few-shot episodes, and compare."
)
st.subheader("Algorithms")
st.dataframe(
    pd.DataFrame(
        [{"name": n, "family": a.family, "what it does": a.summary} for n, a in ALGORITHMS.items()]
    ),
    hide_index=True,
)
st.subheader("Datasets")
st.dataframe(
    pd.DataFrame(
        [
            {
                "name": n,
                "available here": d.available(None),
                "about": d.summary,
                "how to get it": d.how_to_get,
            }
            for n, d in DATASETS.items()
        ]
    ),
    hide_index=True,
)
st.subheader("Runs")
runs = Store().list_runs()
if runs:
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "id": r["id"],
                    "status": r["status"],
                    "algorithm": r["config"]["algorithm"],
                    "dataset": r["config"]["dataset"],
                    "test accuracy": (r["result"] or {}).get("test_accuracy"),
                }
                for r in runs
            ]
        ),
        hide_index=True,
    )
else:
    st.info("No runs yet. Start one: `python -m metalearn train --algorithm protonet`")
