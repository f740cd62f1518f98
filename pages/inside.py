"""Inside the learners: what learned optimisers and memories do, from their runs' records."""

import streamlit as st

from metalearn.viz import gates_figure
from pages._ui import label, metrics, page_setup, runs

page_setup()

INSIDE = ("meta_lstm",)  # algorithms with something to show here

st.title("Inside the learners")
chosen = [r for r in runs() if r["config"]["algorithm"] in INSIDE]
if not chosen:
    st.info("Train the LSTM meta-learner (`meta_lstm`) to see its learned learning rate here.")
    st.stop()
run = st.selectbox("Run", chosen[::-1], format_func=label)
df = metrics((run["id"],))
st.markdown(
    "The LSTM meta-learner updates the learner's parameters as "
    "`theta = f * theta - i * grad`. Its **input gate** `i` acts as a learning rate chosen per "
    "parameter and per step, its **forget gate** `f` as a shrinkage of the weights. Both start "
    "as plain gradient descent (i ≈ 0.01, f ≈ 1) and are learned from the tasks."
)
c1, c2 = st.columns(2)
c1.plotly_chart(gates_figure(df, "input"), key="input")
c2.plotly_chart(gates_figure(df, "forget"), key="forget")
