"""What the dashboard server does once for all its viewers: the job manager, warm-up, throttled
worker checks, and its own timings. Kept apart from the widgets in `_ui.py`, which imports this
module (never the other way round)."""

from __future__ import annotations

import os
import threading
import time
from contextlib import contextmanager

import streamlit as st

from metalearn.engine.jobs import JobManager
from metalearn.store import home


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
