"""Projector mode: larger text, chart text and markers for a classroom projector. The switch is
kept in the URL (`?projector=1`), so a reload or a shared link opens in it, like the language."""

import streamlit as st

from pages._i18n import t

KEY = "projector"
# Streamlit sizes its text in rem: a larger root enlarges every text, widget and table on the page.
STYLE = """<style>
html { font-size: 22px; }
[data-testid="stSidebar"] { font-size: 0.9rem; }
</style>"""


def projector_on() -> bool:
    """Whether this page is in projector mode (the session's switch, else the URL's)."""
    if KEY in st.session_state:
        return bool(st.session_state[KEY])
    return st.query_params.get(KEY) == "1"


def projector_switch() -> None:
    """The sidebar's switch; while it is on, the page's text is larger (charts: `figure`)."""
    if KEY not in st.session_state:
        st.session_state[KEY] = projector_on()
    st.toggle(
        t("Projector mode"),
        key=KEY,
        help=t("larger text, chart text and markers for the back of a classroom"),
    )
    if st.session_state[KEY]:
        st.query_params[KEY] = "1"
        st.markdown(STYLE, unsafe_allow_html=True)
    elif KEY in st.query_params:
        del st.query_params[KEY]
