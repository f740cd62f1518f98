"""The live panel of runs in flight: progress, ETA, curves, log tail, Stop."""

from __future__ import annotations

import time

import streamlit as st

from metalearn.engine.progress import phase
from metalearn.viz import curves_svg, learning_curves
from metalearn.viz.style import run_colours
from pages._access import can_control
from pages._i18n import figure, lang, t, tc, translate
from pages._server import reap, timed
from pages._ui import (
    ACTIVE,
    has_artifact,
    jobs,
    kind,
    label,
    metrics,
    refresh_runs,
    runs,
    summary,
)

ICONS = {
    "queued": ":material/hourglass_top:",
    "running": ":material/play_circle:",
    "completed": ":material/check_circle:",
    "failed": ":material/error:",
    "stopped": ":material/stop_circle:",
    "lost": ":material/warning:",
}


Colours = tuple[tuple[str, str], ...]  # run label -> colour, hashable for the caches


@st.cache_data(max_entries=64, show_spinner=False)
def curves(run_ids: tuple[str, ...], n_rows: int, names: tuple[str, ...], colours: Colours):
    """The figure is rebuilt only when new metric rows arrive (n_rows is part of the key)."""
    return learning_curves(metrics(run_ids), list(names), colours=dict(colours))


@st.cache_data(max_entries=64, show_spinner=False)
def live_curves(
    run_ids: tuple[str, ...], n_rows: int, names: tuple[str, ...], language: str, colours: Colours
) -> str:
    words = {n: translate(n, language) for n in (*names, "no points yet", "training episodes")}
    return curves_svg(metrics(run_ids), list(names), words=words, colours=dict(colours))


def colours_of(runs_shown: list[dict]) -> dict[str, str]:
    """One colour per run for every chart of a panel, whichever runs have points yet."""
    return run_colours(label(r) for r in runs_shown)


def draw_curves(
    container,
    runs_shown: list[dict],
    n_rows: int,
    names: tuple,
    key: str,
    colours: dict[str, str] | None = None,
) -> None:
    """Runs in flight: a small SVG, redrawn every 1.8 s. A plotly chart redrawn that often made
    the browser take 13.5% of a core and slowed the watched run to 0.87 of its unwatched speed
    on a 2-core machine (without charts: 7.3%, 0.96; `scripts/watch_cost.py`) - CPU the run
    needs; hovering over a chart replaced every 2 s did not work anyway. Finished runs get the
    interactive plotly chart."""
    ids = tuple(r["id"] for r in runs_shown)
    shared = tuple((colours or colours_of(runs_shown)).items())
    if any(r["status"] in ACTIVE for r in runs_shown):
        # st.html drops SVG; the markup is ours (names escaped), so Markdown with HTML is safe.
        svg = live_curves(ids, n_rows, names, lang(), shared)
        container.markdown(svg, unsafe_allow_html=True)
    else:
        container.plotly_chart(
            figure(curves(ids, n_rows, names, shared)),
            theme=None,
            key=key,
            config={"displaylogo": False},
        )


def latest(df) -> dict[str, tuple[float, int]]:
    """Each metric's latest value and its step (the rows come in step order)."""
    if not len(df):
        return {}
    last = df.groupby("name").tail(1)
    return {
        n: (float(v), int(s))
        for n, v, s in zip(last["name"], last["value"], last["step"], strict=True)
    }


def run_card(run: dict, queue_position: int | None, colours: dict[str, str] | None = None) -> None:
    """A run's status, progress, result and curves (in `colours`: its group's, where it has
    one), its log and its buttons."""
    cfg, status = run["config"], run["status"]
    df = metrics((run["id"],))
    st.markdown(f"{ICONS.get(status, '')} **{label(run)}** — {t(status)}")
    if status == "queued":  # the position is unknown for a moment right after a launch
        where = t(" (position {n} in the queue)", n=queue_position) if queue_position else ""
        device = run["device"] or t("device")
        st.caption(t("Waiting for a free {device} slot{where}.", device=device, where=where))
    now = phase(cfg, status, latest(df), kind(run).unit)
    if now.name != "queued":
        st.progress(now.fraction, text=tc(now.text))
    done_text = tc(summary(run))
    if done_text:
        st.success(done_text)
    if run["error"]:
        st.error(tc(run["error"]))
    if len(df) and now.name != "preparing":  # no empty axes before the first values
        c1, c2 = st.columns(2)
        draw_curves(c1, [run], len(df), ("loss",), f"loss-{run['id']}", colours)
        draw_curves(c2, [run], len(df), kind(run).curves, f"acc-{run['id']}", colours)
    with st.expander(t("Log")):
        st.code(jobs().log_tail(run["id"]) or "(no output yet)", language=None)
    locked = not can_control()
    if (
        status in ACTIVE
        and st.button(t("Stop"), key=f"stop-{run['id']}", disabled=locked)
        and can_control()
    ):
        jobs().stop(run["id"])
        st.toast(t("Stopping after the current step…"))
    if status not in ACTIVE and not run["group_id"]:  # its result stays one click away
        st.page_link(
            "pages/views/runs.py",
            label=t("Open in Runs and Compare →"),
            query_params={"runs": run["id"]},
        )
    resumable = status in ("stopped", "lost", "failed") and has_artifact(run, "checkpoint")
    if (
        resumable
        and st.button(
            t("Resume from the last checkpoint"), key=f"resume-{run['id']}", disabled=locked
        )
        and can_control()
    ):
        try:
            jobs().resume(run["id"])
            st.toast(t("Resuming…"))
        except ValueError as err:
            st.error(tc(str(err)))


def progress_row(run: dict, queue_position: int | None) -> None:
    """A run launched elsewhere: status and progress, without charts."""
    cfg, status = run["config"], run["status"]
    df = metrics((run["id"],))
    where = f" (queue position {queue_position})" if queue_position else ""
    st.markdown(f"{ICONS.get(status, '')} **{label(run)}** — {status}{where}")
    now = phase(cfg, status, latest(df), kind(run).unit)
    st.progress(now.fraction, text=tc(now.text))
    if (
        status in ACTIVE
        and st.button(t("Stop"), key=f"stop-row-{run['id']}", disabled=not can_control())
        and can_control()
    ):
        jobs().stop(run["id"])
        st.toast(t("Stopping after the current step…"))


def group_card(group_id: str, members: list[dict]) -> None:
    what = t("Sweep") if group_id.startswith("sweep-") else t("Comparison")
    same = (
        t("{n} runs, identical test episodes", n=len(members)) if len(members) != 1 else t("1 run")
    )
    st.markdown(f"**{what} {group_id}** — {same}")
    df = metrics(tuple(r["id"] for r in members))
    colours = colours_of(members)  # each run's colour, in the group's charts and its own
    if len(df):
        c1, c2 = st.columns(2)
        draw_curves(c1, members, len(df), ("loss",), f"gl-{group_id}", colours)
        second = (kind(members[0]).val_metric,)
        draw_curves(c2, members, len(df), second, f"ga-{group_id}", colours)
    for r in members:
        with st.container(border=True):
            run_card(r, _queue_position(r), colours)
    if group_id.startswith("sweep-"):  # a sweep's statistics live on the Sweeps page
        st.page_link(
            "pages/views/sweeps.py", label=t("Open the sweep →"), query_params={"sweep": group_id}
        )
        return
    if all(r["status"] not in ACTIVE for r in members):
        ids = ",".join(r["id"] for r in members)
        if st.session_state.get("opened_group") != group_id:
            st.session_state["opened_group"] = group_id
            st.switch_page("pages/views/runs.py", query_params={"runs": ids})
        st.page_link(
            "pages/views/runs.py", label=t("Open in Compare →"), query_params={"runs": ids}
        )


WATCH = "watch"  # the session's and the URL's key: a reload or a shared link keeps the runs


def watched() -> list[str]:
    """Run ids this browser watches: launched in this session, or named in the URL."""
    from_url = [i for i in st.query_params.get(WATCH, "").split(",") if i]
    return list(dict.fromkeys([*st.session_state.get(WATCH, []), *from_url]))


def watch(run_ids: list[str]) -> None:
    """Watches these runs (newest first), in the session and in the page's URL. Called right
    after a launch: the cached run list (a second old at most) is dropped, so the next page
    lists the new runs."""
    refresh_runs()
    ids = list(dict.fromkeys([*run_ids, *watched()]))[:12]
    st.session_state[WATCH] = ids
    st.query_params[WATCH] = ",".join(ids)


def _queue_position(run: dict) -> int | None:
    queued = [r["id"] for r in runs() if r["status"] == "queued" and r["device"] == run["device"]]
    return queued.index(run["id"]) + 1 if run["id"] in queued else None


# Every 1.8 s, so that with the server's and the browser's own time a viewer sees a fresh curve at
# least every 2 s (measured: 2.14-2.25 s between updates on screen when this was 2.0); live
# enough for a projector, and light on a 2-core machine that is also training.
@st.fragment(run_every=1.8)
def live_panel() -> None:
    with timed("live panel"):
        _live_panel()


def _live_panel() -> None:
    reap()
    mine = set(watched())
    shown = [r for r in runs() if r["id"] in mine or r["status"] in ACTIVE]
    if not shown:
        st.caption(t("Launch a run to watch it train here."))
        return
    groups: dict[str, list[dict]] = {}
    for r in shown:
        groups.setdefault(r["group_id"] or r["id"], []).append(r)
    others = [g for g in groups.values() if not any(r["id"] in mine for r in g)]
    all_curves = bool(others) and st.toggle(
        t("Curves for every run in progress"),
        key="all_curves",
        help=t(
            "off: curves only for runs launched in this browser session; others show their "
            "progress (lighter on small machines)"
        ),
    )
    for key, members in reversed(list(groups.items())):
        with st.container(border=True):
            if not all_curves and not any(r["id"] in mine for r in members):
                for r in members:
                    progress_row(r, _queue_position(r))
            elif members[0]["group_id"]:
                group_card(key, members)
            else:
                run_card(members[0], _queue_position(members[0]))
    st.caption(t("Updated {time}", time=time.strftime("%H:%M:%S")))
