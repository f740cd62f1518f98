"""What the dashboard server does once for all its viewers: the job manager, warm-up, throttled
worker checks, and its own timings. Kept apart from the widgets in `_ui.py`, which imports this
module (never the other way round)."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager

import streamlit as st

from metalearn.engine.jobs import JobManager
from metalearn.store import home
from pages._guard import UploadGate

log = logging.getLogger(__name__)

uploads = UploadGate()  # the presenter sessions that may upload in viewer mode
_viewer_mode: list[Callable[[], bool]] = []


def jobs() -> JobManager:
    """One job manager per dashboard process and runs directory; workers outlive it."""
    return _jobs(str(home()))


@st.cache_resource
def _jobs(path: str) -> JobManager:
    return JobManager(path)


@st.cache_resource
def warm_up() -> threading.Thread:
    """Imports torch and the algorithms in the background once per server process.

    The Train page needs the registry, whose modules import torch: 5-10 s on a busy 2-core machine.
    Done here at the first visit to any page, so the first visitor of Train does not wait for it.
    """
    thread = threading.Thread(target=_import_backend, daemon=True)
    thread.start()
    return thread


def _import_backend() -> None:
    import metalearn.algorithms  # noqa: F401
    import metalearn.data  # noqa: F401


_reaped = [0.0]
_reap_lock = threading.Lock()


def reap() -> None:
    """Marks dead workers' runs lost; at most once a second for the whole server, however many
    viewers' live panels ask."""
    with _reap_lock:
        if time.monotonic() - _reaped[0] < 1.0:
            return
        _reaped[0] = time.monotonic()
    jobs().reap()


@contextmanager
def timed(what: str):
    """With $METALEARN_PAGE_TIMES set to a file, appends "what<TAB>seconds" for each page and live
    panel run: the server's own share of a page's response time (the load test reads it)."""
    path = os.environ.get("METALEARN_PAGE_TIMES")
    t0 = time.perf_counter()
    try:
        yield
    finally:
        if path:
            with open(path, "a") as f:
                f.write(f"{what}\t{time.perf_counter() - t0:.4f}\n")


def guard_uploads(viewer_mode: Callable[[], bool]) -> None:
    """Makes Streamlit's upload endpoint (`PUT /_stcore/upload_file/<session>/<file>`) answer 403
    and keep nothing for a session `uploads` does not allow while `viewer_mode()` holds.

    Viewer pages show no uploader, but the endpoint takes files from any live session that sends
    its session id and xsrf cookie, and keeps them in memory for the session's life. Streamlit has
    no setting or hook for who may upload, so this wraps the one method every upload goes through,
    `MemoryUploadedFileManager.add_file`. Called before the server starts (serve.py) and by app.py
    (under a plain `streamlit run`); doing it again changes nothing. What remains: the endpoint
    still reads a refused request's body (at most `server.maxUploadSize`, 10 MB) before it asks,
    and frees it when the request ends.
    """
    from starlette.exceptions import HTTPException
    from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager

    _viewer_mode[:] = [viewer_mode]
    if getattr(MemoryUploadedFileManager.add_file, "guarded", False):
        return
    keep = MemoryUploadedFileManager.add_file

    def add_file(self, session_id: str, file) -> None:
        if not uploads.allows(session_id, _viewer_mode[0]()):
            log.warning("refused a %d-byte upload from a viewer session", len(file.data))
            raise HTTPException(
                status_code=403, detail="uploads are switched off for viewers (view-only mode)"
            )
        keep(self, session_id, file)

    add_file.guarded = True  # type: ignore[attr-defined]
    MemoryUploadedFileManager.add_file = add_file  # type: ignore[method-assign]


def session_id() -> str | None:
    """This browser session's id in Streamlit's runtime (None outside a script run)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return ctx.session_id if ctx else None


def drop_uploads(sid: str) -> None:
    """Frees the files a session uploaded (a presenter locking the controls again)."""
    from streamlit import runtime

    if runtime.exists():
        runtime.get_instance().uploaded_file_mgr.remove_session_files(sid)
