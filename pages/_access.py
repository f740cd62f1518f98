"""Who may control the dashboard: viewer mode (view-only, for a projected or shared dashboard)
and the presenter password that unlocks the controls for one browser session, with the
server's back-off against guessing it (`pages._guard.Backoff`)."""

from __future__ import annotations

import hmac
import os
import secrets

import streamlit as st

from pages._guard import Backoff
from pages._i18n import t
from pages._server import drop_uploads, session_id, uploads


def _secret(name: str):
    """A value from .streamlit/secrets.toml, or None when there is no such file or key."""
    try:
        return st.secrets.get(name)
    except Exception:  # no secrets file: Streamlit raises rather than returning nothing
        return None


def viewer_mode() -> bool:
    """View-only dashboard: $METALEARN_VIEWER=1, or `viewer_mode = true` in secrets.toml."""
    env = os.environ.get("METALEARN_VIEWER", "").strip().lower() in ("1", "true", "yes", "on")
    return env or bool(_secret("viewer_mode"))


# Where a session keeps its unlocked state: a name no client can guess (a client may send
# state for widget keys it makes up, such as "presenter").
UNLOCKED = f"_metalearn_unlocked_{secrets.token_hex(8)}"


def _unlocked() -> bool:
    try:
        return st.session_state.get(UNLOCKED) is True
    except KeyError:  # state a client sent for a key no widget declared
        return False


def can_control() -> bool:
    """Whether this browser session may launch, stop, delete and upload: always, unless the
    dashboard is in viewer mode and the presenter password was not given in this session."""
    return not viewer_mode() or _unlocked()


@st.cache_resource
def guesses() -> Backoff:
    """The server's one record of wrong presenter passwords (per client, and overall)."""
    return Backoff()


def _client() -> str:
    try:
        return st.context.ip_address or "unknown"
    except Exception:  # no request context (a test harness)
        return "unknown"


def viewer_notice(what: str) -> None:
    st.info(
        t("View-only dashboard: {what} is switched off for viewers.", what=what),
        icon=":material/lock:",
    )


def presenter_unlock() -> None:
    """Sidebar control: the presenter password (METALEARN_PRESENTER_PASSWORD or
    `presenter_password` in secrets.toml) unlocks the controls for this browser session."""
    password = os.environ.get("METALEARN_PRESENTER_PASSWORD") or _secret("presenter_password")
    st.caption(":material/lock: " + t("View-only mode"))
    if not password:
        return
    if _unlocked():
        if st.button(t("Lock controls"), key="lock-controls"):
            st.session_state[UNLOCKED] = False
            if sid := session_id():
                uploads.close(sid)
                drop_uploads(sid)
            st.rerun()
        return
    st.text_input(
        t("Presenter password"),
        type="password",
        key="presenter_password",
        on_change=_try_password,  # once per entered value, not on every rerun
        args=(str(password),),
    )
    if refusal := st.session_state.get(REFUSAL):
        st.error(refusal)


REFUSAL = "_metalearn_password_refusal"


def _try_password(password: str) -> None:
    given = str(st.session_state.get("presenter_password") or "")
    st.session_state[REFUSAL] = None
    if not given:
        return
    client, backoff = _client(), guesses()
    wait = backoff.wait(client)
    if wait > 0:  # not even compared: a guesser learns nothing while it waits
        st.session_state[REFUSAL] = t(
            "Too many wrong passwords: try again in {wait} s.", wait=f"{wait:.0f}"
        )
    elif hmac.compare_digest(given.encode(), password.encode()):
        backoff.succeeded(client)
        st.session_state[UNLOCKED] = True
        if sid := session_id():
            uploads.open(sid)
    else:
        backoff.failed(client)
        st.session_state[REFUSAL] = t("Wrong password.")
