"""metalearn dashboard: `streamlit run app.py`. Pages compose widgets over the `metalearn` backend;
training happens in worker processes, never in this one."""

import streamlit as st

from metalearn import catalog
from pages._server import timed, warm_up
from pages._ui import routed, runs, sidebar

st.set_page_config(page_title="metalearn", page_icon="assets/logo.svg", layout="wide")
pages = [
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/train.py", title="Train", icon=":material/rocket_launch:"),
    st.Page("pages/runs.py", title="Runs and Compare", icon=":material/bar_chart:"),
    st.Page("pages/embeddings.py", title="Embeddings", icon=":material/scatter_plot:"),
    st.Page("pages/explorer.py", title="Task explorer", icon=":material/search:"),
    st.Page("pages/learn.py", title="Learn", icon=":material/school:"),
]
algorithms = catalog.algorithms()
with_views = {name for name, a in algorithms.items() if a.views}  # e.g. learned gates, memory
if any(r["config"]["algorithm"] in with_views for r in runs()):
    pages.insert(
        -1, st.Page("pages/inside.py", title="Inside the learners", icon=":material/memory:")
    )
page = st.navigation(pages)
warm_up()
sidebar(live=page.title != "Train")  # Train's own live panel shows the runs in progress
routed(True)
try:
    with timed(page.title):
        page.run()
finally:
    routed(False)
