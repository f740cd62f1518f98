"""metalearn dashboard: `python serve.py` (`streamlit run app.py` with one flag set, see serve.py).
Pages compose widgets over the `metalearn` backend; training happens in worker processes, never in
this one.

`st.navigation` here is the only router. The page scripts live in `pages/views/`, not directly in
`pages/`: Streamlit still starts in its legacy multipage mode when a `pages/` folder exists next to
the main script (streamlit/streamlit#8860, #9992, PR #10276), and that mode routes a cold deep
link (a shared `/runs?runs=...`) to a `pages/<name>.py` by itself, without this script. With no
page script directly in `pages/`, there is nothing for it to route to: every request runs this
script, whose navigation finds the page. The legacy mode's one remaining trace (a "Page not
found" notice on a fresh server's first request) is what serve.py turns off; under a plain
`streamlit run app.py` the dashboard works the same, with that notice once.
"""

import streamlit as st

from pages._access import viewer_mode
from pages._i18n import language_switch, t
from pages._projector import projector_switch
from pages._server import guard_uploads, timed, warm_up
from pages._ui import sidebar, store_banner

guard_uploads(viewer_mode)  # before anything else (serve.py did it already)

st.set_page_config(page_title="metalearn", page_icon="assets/logo.svg", layout="wide")
with st.sidebar:
    language_switch()  # first: the page titles below are in its language
    projector_switch()
pages = [
    st.Page("pages/views/home.py", title=t("Home"), icon=":material/home:", default=True),
    st.Page("pages/views/train.py", title=t("Train"), icon=":material/rocket_launch:"),
    st.Page("pages/views/runs.py", title=t("Runs and Compare"), icon=":material/bar_chart:"),
    st.Page("pages/views/sweeps.py", title=t("Sweeps"), icon=":material/grid_on:"),
    st.Page("pages/views/embeddings.py", title=t("Embeddings"), icon=":material/scatter_plot:"),
    st.Page("pages/views/explorer.py", title=t("Task explorer"), icon=":material/search:"),
    st.Page("pages/views/versus.py", title=t("You vs the model"), icon=":material/sports_esports:"),
    st.Page("pages/views/draw.py", title=t("Draw your own"), icon=":material/draw:"),
    st.Page("pages/views/inside.py", title=t("Inside the learners"), icon=":material/memory:"),
    st.Page("pages/views/learn.py", title=t("Learn"), icon=":material/school:"),
    st.Page("pages/views/claims.py", title=t("The article's claims"), icon=":material/fact_check:"),
]
if not store_banner():
    st.stop()
page = st.navigation(pages)
warm_up()
sidebar(live=page.url_path != "train")  # Train's own live panel shows the runs in progress
with timed(page.url_path or "home"):
    page.run()
