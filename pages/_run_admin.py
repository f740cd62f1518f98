"""Looking after runs, on the Runs and Compare page: resume, delete, reset the demo, name a run,
take a run to another lab or bring one in, and a comparison report of the selected runs. The
page stays light: what needs torch (reading an imported checkpoint) is imported on the click."""

from __future__ import annotations

import time
from contextlib import closing

import streamlit as st

from metalearn.store import MAX_NAME, MAX_NOTE, RUN_FILE, Store, home
from pages._access import can_control
from pages._i18n import t, tc
from pages._live import WATCH, watched
from pages._ui import ACTIVE, has_artifact, jobs, label, refresh_runs

IMPORTED = "imported"  # the id of a run just brought in, said after the rerun that lists it
NOT_DELETED = "reset-left"  # runs a demo reset could not delete (still stopping)


def _delete_dialog(ids: list[str]) -> None:
    st.dialog(t("Delete runs"))(_confirm_delete)(ids)


def _confirm_delete(ids: list[str]) -> None:
    st.write(
        t(
            "Delete {n} runs with their metrics, checkpoints and files? This cannot be undone.",
            n=len(ids),
        )
        if len(ids) != 1
        else t("Delete this run with its metrics, checkpoint and files? This cannot be undone.")
    )
    if st.button(t("Delete"), type="primary") and can_control():
        for run_id in ids:
            try:
                jobs().delete(run_id)
            except ValueError as err:
                st.error(tc(str(err)))
                return
        st.query_params.clear()
        st.rerun()


def _reset_dialog(ids: list[str], active: set[str]) -> None:
    st.dialog(t("Reset the demo"))(_confirm_reset)(ids, active)


def _confirm_reset(ids: list[str], active: set[str]) -> None:
    """Deletes the runs this browser launched (the active ones stopped first), after a yes."""
    st.write(
        t(
            "Delete the {n} runs launched from this browser, with their metrics, checkpoints "
            "and files? Runs launched elsewhere stay. This cannot be undone.",
            n=len(ids),
        )
    )
    if not (st.button(t("Delete them"), type="primary") and can_control()):
        return
    manager = jobs()
    for run_id in ids:
        if run_id in active:
            manager.stop(run_id)
    deadline, left = time.time() + 30, list(ids)
    while left and time.time() < deadline:  # a stopped worker exits after its current step
        for run_id in list(left):
            try:
                manager.delete(run_id)
                left.remove(run_id)
            except ValueError:
                pass
        if left:
            time.sleep(0.5)
    st.session_state[WATCH] = []
    st.query_params.clear()
    if left:
        st.session_state[NOT_DELETED] = left
    refresh_runs()
    st.rerun()


def manage_runs(all_runs: list[dict], left, right) -> None:
    """Resume a stopped run, reset the demo (`left` column), delete runs (`right` column)."""
    if not can_control():
        return
    resumable = [
        r["id"]
        for r in all_runs
        if r["status"] in ("stopped", "lost", "failed") and has_artifact(r, "checkpoint")
    ]
    if resumable:
        r1, r2 = st.columns([3, 1])
        again = r1.selectbox(
            t("Resume a stopped, lost or failed run from its last checkpoint"),
            resumable,
            index=None,
            placeholder=t("choose a run"),
        )
        if again and r2.button(t("Resume")):
            try:
                jobs().resume(again)
                st.switch_page("pages/views/train.py", query_params={"watch": again})
            except ValueError as err:
                st.error(tc(str(err)))
    ids = {r["id"] for r in all_runs}
    mine = [i for i in watched() if i in ids]
    if mine and left.button(t("Reset the demo ({n} runs)", n=len(mine)), key="reset-demo"):
        _reset_dialog(mine, {r["id"] for r in all_runs if r["status"] in ACTIVE})
    if not_deleted := st.session_state.pop(NOT_DELETED, None):
        st.warning(t("Still running, not deleted: {ids}", ids=", ".join(not_deleted)))
    doomed = right.multiselect(
        t("Delete runs…"), [r["id"] for r in all_runs], placeholder=t("choose runs to delete")
    )
    if doomed and right.button(t("Delete selected")):
        _delete_dialog(doomed)


def _name(run_id: str, name: str, note: str) -> None:
    try:
        with closing(Store(home())) as store:
            store.name_run(run_id, name, note)
    except ValueError as err:
        st.error(tc(str(err)))
        return
    refresh_runs()
    st.rerun()


def name_a_run(by_id: dict[str, dict]) -> None:
    """A run's name and note, editable (newest run first)."""
    if not can_control():
        return
    with st.expander(t("Name a run, or note what it is for")):
        k1, k2 = st.columns([1, 2])
        naming = k1.selectbox(
            t("Run"),
            list(reversed(list(by_id))),
            format_func=lambda i: label(by_id[i]),
            key="name-run",
        )
        new_name = k1.text_input(
            t("Name"), by_id[naming].get("name") or "", max_chars=MAX_NAME, key=f"name-{naming}"
        )
        new_note = k2.text_area(
            t("Note"), by_id[naming].get("note") or "", max_chars=MAX_NOTE, key=f"note-{naming}"
        )
        if k1.button(t("Save"), key="name-save"):
            _name(naming, new_name, new_note)


def _exported(run_id: str) -> bytes:
    """The run as one file (called on the download's click, in a thread of its own)."""
    from metalearn.engine.portable import export_bytes

    with closing(Store(home())) as store:
        return export_bytes(store, run_id)


def _bring(data: bytes) -> None:
    """Adds an exported run to this lab (reading its checkpoint needs torch: loaded here)."""
    from metalearn.data.base import DataError
    from metalearn.engine.portable import import_run

    try:
        with closing(Store(home())) as store, st.spinner(t("Checking the file and its model…")):
            new = import_run(store, data)
    except DataError as err:
        st.error(tc(str(err)))
        return
    refresh_runs()
    st.session_state[IMPORTED] = new
    st.rerun()


def take_away_or_bring(by_id: dict[str, dict]) -> None:
    """Download a completed run as one file; upload one exported elsewhere."""
    imported = st.session_state.pop(IMPORTED, None)
    with st.expander(t("Take a run to another lab, or bring one here"), expanded=bool(imported)):
        if imported:
            st.success(
                t(
                    "Added as run {id}: it tests, predicts and compares like a run trained here.",
                    id=imported,
                )
            )
            st.page_link(
                "pages/views/runs.py", label=t("Open it →"), query_params={"runs": imported}
            )
        finished = [i for i, r in reversed(by_id.items()) if r["status"] == "completed"]
        if finished:
            e1, e2 = st.columns([3, 2], vertical_alignment="bottom")
            away = e1.selectbox(
                t("Run to take away"), finished, format_func=lambda i: label(by_id[i]), key="export"
            )
            e2.download_button(
                t("Download it (one file)"),
                data=lambda: _exported(away),
                file_name=f"{away}{RUN_FILE}",
                mime="application/zip",
                help=t("its checkpoint, settings, result, curves and test scores"),
            )
        if can_control():
            brought = st.file_uploader(
                t("A run exported from another lab ({suffix})", suffix=RUN_FILE),
                type=["zip"],
                key="import",
            )
            if brought is not None and st.button(t("Add it to this lab")):
                _bring(brought.getvalue())


def _report(run_ids: tuple[str, ...]) -> str:
    """The comparison report of these runs (built on the download's click)."""
    from metalearn.engine.report import comparison_report

    with closing(Store(home())) as store:
        return comparison_report(store, list(run_ids))


def report_button(run_ids: list[str]) -> None:
    """Download a self-contained HTML report of these runs."""
    st.download_button(
        t("Download a report of these runs (HTML)"),
        data=lambda ids=tuple(run_ids): _report(ids),
        file_name=f"metalearn-report-{time.strftime('%Y%m%d-%H%M')}.html",
        mime="text/html",
        help=t(
            "one file that opens in any browser, offline, and prints: the runs, their scores "
            "with 95% CIs, paired verdicts, curves, every setting and the environment"
        ),
        key="report",
    )
