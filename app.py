"""metalearn dashboard entry point: `streamlit run app.py`.

The full dashboard (training, live curves, comparison, embeddings) is built on the `metalearn`
backend; until then this page shows what is available and how to run it from the command line.
"""

import streamlit as st

st.set_page_config(page_title="metalearn", page_icon="assets/logo.svg", layout="wide")
home = st.Page("pages/home.py", title="Home", default=True)
st.navigation([home]).run()
