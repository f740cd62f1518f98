"""What the pages share: cached store reads, the kind of each run, labels and the sidebar.

Reads are cached for one second, so many viewers polling live runs share one query per second.
Nothing here imports torch: menus come from the static catalogue, kinds load no torch.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from metalearn import catalog
from metalearn.engine.kinds import RunKind
from metalearn.engine.records import RunRecord, kind_of_row, run_label
from metalearn.store import Store, StoreError, artifact_path, damaged, home, store_file
from pages._access import presenter_unlock, viewer_mode
from pages._i18n import t, tc
from pages._server import jobs, reap  # noqa: F401  (jobs: re-exported for the pages)

ACTIVE = ("queued", "running")


def runs() -> list[dict]:
    return _runs(str(home()))


def refresh_runs() -> None:
    """Forget the cached run list (it is at most a second old): for a page that just saw, in
    the store itself, a run finish and draws its result now."""
    _runs.clear()


def store_banner() -> bool:
    """One banner for a damaged store, with what to do; False when nothing can be read (the
    page stops), True otherwise (damaged rows are skipped and named)."""
    try:
        skipped = _skipped(str(home()))
    except (StoreError, sqlite3.DatabaseError) as err:
        text = str(err) if isinstance(err, StoreError) else str(damaged(store_file(), err))
        st.error(
            f"**{t('The run store cannot be read.')}** {text[0].upper()}{text[1:]}.", icon="🛑"
        )
        return False
    if skipped:
        st.warning(
            t(
                "{n} run record(s) are damaged and not shown ({ids}). Run `python -m metalearn "
                "doctor` to check the store, `--restore` to go back to its last backup.",
                n=len(skipped),
                ids=", ".join(skipped),
            )
        )
    return True


@st.cache_data(ttl=5.0, show_spinner=False)
def _skipped(path: str) -> list[str]:
    store = Store(path)
    try:
        store.list_runs()
        return store.skipped
    finally:
        store.close()


@st.cache_data(ttl=1.0, show_spinner=False)
def _runs(path: str) -> list[dict]:
    store = Store(path)
    try:
        return store.list_runs()
    finally:
        store.close()


def metrics(run_ids: tuple[str, ...]) -> pd.DataFrame:
    return _metrics(str(home()), run_ids)


@st.cache_data(ttl=1.0, show_spinner=False)
def _metrics(path: str, run_ids: tuple[str, ...]) -> pd.DataFrame:
    store = Store(path)
    try:
        rows = store.metrics_of(list(run_ids))
    finally:
        store.close()
    labels = {r["id"]: label(r) for r in _runs(path) if r["id"] in run_ids}
    df = pd.DataFrame(rows, columns=["run_id", "step", "name", "value", "time"])
    df["run"] = df["run_id"].map(labels).fillna(df["run_id"])
    return df


def episodes(run_id: str) -> list[float]:
    return _episodes(str(home()), run_id)


@st.cache_data(ttl=5.0, show_spinner=False)
def _episodes(path: str, run_id: str) -> list[float]:
    store = Store(path)
    try:
        return store.episodes(run_id)
    finally:
        store.close()


@st.cache_data(ttl=60, show_spinner=False)
def availability() -> dict[str, bool]:
    """Dataset name -> whether its files are present under the default data root (generated
    tasks, which a run kind brings, always are)."""
    from metalearn.data import DATASETS

    return {n: DATASETS[n].available(None) if n in DATASETS else True for n in catalog.datasets()}


def record(run: dict) -> RunRecord:
    """The typed record of a store row (its resolved spec, kind and typed result)."""
    return RunRecord.from_row(run)


def kind(run: dict) -> RunKind:
    """The run's kind (what it was scored on, how its result reads), without building the
    whole record: labels and tables ask it for every run on every rerun."""
    return kind_of_row(run["config"])


def summary(run: dict) -> str:
    """One line for a finished run's result, as its kind words it ("" while it has none)."""
    return record(run).summary()


def has_artifact(run: dict, name: str) -> bool:
    return artifact_path(home(), run["id"], name).exists()


def artifact(run: dict, name: str) -> Path:
    return artifact_path(home(), run["id"], name)


UNREADABLE = (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile)


@st.cache_data(show_spinner=False, max_entries=16)
def _npz(path: str, mtime: float) -> dict:
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


def read_npz(run: dict, name: str) -> dict | None:
    """A run's .npz artifact as arrays (cached per file version); None, with an error shown
    naming the file, when it cannot be read (truncated, overwritten)."""
    path = artifact(run, name)
    try:
        return _npz(str(path), path.stat().st_mtime)
    except UNREADABLE as err:
        st.error(
            t(
                "{file} of run {run} cannot be read ({err}); run it again.",
                file=path.name,
                run=run["id"],
                err=err,
            )
        )
        return None


def read_json(run: dict, name: str):
    """A run's JSON artifact; None, with an error shown naming the file, when unreadable."""
    path = artifact(run, name)
    try:
        return json.loads(path.read_text())
    except (*UNREADABLE, UnicodeDecodeError) as err:
        st.error(
            t(
                "{file} of run {run} cannot be read ({err}); run it again.",
                file=path.name,
                run=run["id"],
                err=err,
            )
        )
        return None


def label(run: dict) -> str:
    """How a run is named on every page: its name (where it has one), method, data, shape and
    the end of its id ("baseline · protonet · glyphs 5w1s · 3fa2c1")."""
    return run_label(run, tc(kind(run).shape_label(run["config"])))  # "5w1s", "whole dataset"


@st.cache_resource
def device_label() -> str:
    """The GPU model if there is one (asked of nvidia-smi, so the UI need not import torch)."""
    if shutil.which("nvidia-smi"):
        try:
            out = subprocess.run(
                ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
                capture_output=True,
                text=True,
                timeout=5,
            ).stdout.strip()
            if out:
                return "GPU: " + out.splitlines()[0]  # a name: not translated
        except (OSError, subprocess.SubprocessError):
            pass
    return "CPU (no GPU found)"


def sidebar(live: bool = True) -> None:
    """Device, presenter unlock, runs in progress. `live=False` on a page with its own live
    panel: one refreshing fragment per page instead of two keeps the browser's share of a small
    machine down while a run is watched."""
    with st.sidebar:
        st.caption(t("Device: **{device}**", device=t(device_label())))
        if viewer_mode():
            presenter_unlock()
        if live:
            live_sidebar()
        else:
            st.caption(t("Runs in progress: under **Live** on this page."))


@st.fragment(run_every=3.0)
def live_sidebar() -> None:
    reap()
    active = [r for r in runs() if r["status"] in ACTIVE]
    if not active:
        st.caption(t("No runs in progress."))
    for r in active:
        icon = ":material/play_circle:" if r["status"] == "running" else ":material/hourglass_top:"
        st.caption(f"{icon} {label(r)} — {t(r['status'])}")
