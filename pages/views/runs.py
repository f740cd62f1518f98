"""Runs and Compare: every run in a table; selected runs side by side. The selection is kept in
the URL (?runs=id1,id2), so a comparison can be shared as a link."""

import time

import pandas as pd
import streamlit as st

from metalearn.engine.progress import training_budget, validation_interval
from metalearn.store import MAX_NAME, MAX_NOTE, RUN_FILE, Store, home
from metalearn.viz import convergence, learning_curves, score_by_steps, score_points
from metalearn.viz.style import run_colours
from pages._access import can_control
from pages._compare import paired_rows, steps_curves
from pages._i18n import N_, figure, t, tc
from pages._live import WATCH, watched
from pages._ui import ACTIVE, has_artifact, jobs, kind, label, metrics, refresh_runs, runs

# The runs table's columns: name -> header (English; shown through the table) and, for numbers,
# how they are written.
COLUMNS = {
    "id": N_("Run"),
    "name": N_("Name"),
    "status": N_("Status"),
    "algorithm": N_("Algorithm"),
    "dataset": N_("Dataset"),
    "kind": N_("Kind"),
    "test shape": N_("Test shape"),
    "train shape": N_("Training shape"),
    "episodes": N_("Training episodes"),
    "budget": N_("Training budget"),
    "metric": N_("Metric"),
    "value": N_("Result"),
    "95% CI": N_("± (95% CI)"),
    "train s": N_("Training time (s)"),
    "device": N_("Device"),
    "pretrained": N_("Pretrained on"),
    "group": N_("Group"),
    "note": N_("Note"),
}
X_AXES = {"step": N_("training episodes"), "time": N_("wall time (s)")}
FORMATS = {"value": "%.3f", "95% CI": "± %.3f", "train s": "%.0f s", "episodes": "%d"}


def shown(df: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """The table as the page shows it: only the columns some run fills, status and kind in the
    page's language, headers through the table, numbers with their units."""
    df = df.dropna(axis="columns", how="all")
    df = df.loc[:, [c for c in df.columns if (df[c].astype(str) != "").any()]]
    df = df.assign(
        **{
            c: df[c].map(lambda v: t(v) if isinstance(v, str) else v)
            for c in ("status", "kind", "metric", "test shape", "train shape")
            if c in df
        }
    )
    if "budget" in df:  # put together from numbers: "40 s budget (at most 100,000 episodes)"
        df = df.assign(budget=df["budget"].map(tc))
    config = {
        t(COLUMNS[c]): st.column_config.NumberColumn(format=f)
        for c, f in FORMATS.items()
        if c in df
    }
    return df.rename(columns={c: t(h) for c, h in COLUMNS.items()}), config


def pretrained_on(result: dict) -> str:
    """What a run's pretrained backbone was trained on, and whether that held its test classes
    (a score that is not few-shot on unseen classes); empty for a run trained from scratch."""
    if not result.get("pretrained_on"):
        return ""
    if result.get("test_classes_seen_in_pretraining"):
        return t("{data}: test classes seen in pretraining", data=result["pretrained_on"])
    return result["pretrained_on"]


def table(all_runs: list[dict]) -> pd.DataFrame:
    rows = []
    for r in all_runs:
        c, res, k = r["config"], r["result"] or {}, kind(r)
        rows.append(
            {
                "id": r["id"],
                "name": r.get("name") or "",
                "status": r["status"],
                "algorithm": c["algorithm"],
                "dataset": c["dataset"],
                "kind": k.label,
                "test shape": k.shape_label(c),
                "train shape": k.shape_label(
                    {
                        **c,
                        "n_way": c.get("train_way") or c["n_way"],
                        "n_shot": c.get("train_shot") or c["n_shot"],
                    }
                ),
                "episodes": res.get("train_episodes"),  # trained, not planned
                "budget": training_budget(c),
                "metric": k.metric_label,
                "value": res.get(k.metric),
                "95% CI": res.get(k.ci_key),
                "train s": res.get("train_seconds"),
                "device": r["device"],
                "pretrained": pretrained_on(res),
                "group": r["group_id"],
                "note": r.get("note") or "",
            }
        )
    return pd.DataFrame(rows)


st.title(t("Runs and Compare"))
all_runs = runs()
if not all_runs:
    st.info(t("No runs yet: start one on the Train page."))
    st.stop()
df = table(all_runs)
view, formats = shown(df)
st.dataframe(view, hide_index=True, width="stretch", column_config=formats)
c1, c2 = st.columns([1, 3])
c1.download_button(t("Export table as CSV"), df.to_csv(index=False), "runs.csv", "text/csv")


def confirm_delete(ids: list[str]) -> None:
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


resumable = [
    r["id"]
    for r in all_runs
    if r["status"] in ("stopped", "lost", "failed") and has_artifact(r, "checkpoint")
]
if resumable and can_control():
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


def reset_demo(ids: list[str]) -> None:
    st.dialog(t("Reset the demo"))(_reset_demo)(ids)


def _reset_demo(ids: list[str]) -> None:
    """Deletes the runs this browser launched (active ones stopped first), after a yes."""
    st.write(
        t(
            "Delete the {n} runs launched from this browser, with their metrics, checkpoints "
            "and files? Runs launched elsewhere stay. This cannot be undone.",
            n=len(ids),
        )
    )
    if st.button(t("Delete them"), type="primary") and can_control():
        manager = jobs()
        for run_id in ids:
            if by_id[run_id]["status"] in ACTIVE:
                manager.stop(run_id)
        deadline = time.time() + 30
        left = list(ids)
        while left and time.time() < deadline:  # a stopped worker exits after its step
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
            st.session_state["reset-left"] = left
        refresh_runs()
        st.rerun()


if can_control():
    mine = [i for i in watched() if i in {r["id"] for r in all_runs}]
    if mine and c1.button(t("Reset the demo ({n} runs)", n=len(mine)), key="reset-demo"):
        reset_demo(mine)
    if left := st.session_state.pop("reset-left", None):
        st.warning(t("Still running, not deleted: {ids}", ids=", ".join(left)))
    doomed = c2.multiselect(
        t("Delete runs…"), df["id"].tolist(), placeholder=t("choose runs to delete")
    )
    if doomed and c2.button(t("Delete selected")):
        confirm_delete(doomed)

by_id = {r["id"]: r for r in all_runs}


def _exported(run_id: str) -> bytes:
    """The run as one file (called on the download's click, in a thread of its own)."""
    from metalearn.engine.portable import export_bytes  # on the click: the page stays light

    store = Store(home())
    try:
        return export_bytes(store, run_id)
    finally:
        store.close()


def _bring(data: bytes) -> None:
    """Adds an exported run to this lab (reading its checkpoint needs torch: loaded here)."""
    from metalearn.data.base import DataError
    from metalearn.engine.portable import import_run

    store = Store(home())
    try:
        with st.spinner(t("Checking the file and its model…")):
            new = import_run(store, data)
    except DataError as err:
        st.error(tc(str(err)))
        return
    finally:
        store.close()
    refresh_runs()
    st.session_state["imported"] = new  # said after the rerun that lists it
    st.rerun()


def _name(run_id: str, name: str, note: str) -> None:
    store = Store(home())
    try:
        store.name_run(run_id, name, note)
    except ValueError as err:
        st.error(tc(str(err)))
        return
    finally:
        store.close()
    refresh_runs()
    st.rerun()


if can_control():
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

imported = st.session_state.pop("imported", None)
with st.expander(t("Take a run to another lab, or bring one here"), expanded=bool(imported)):
    if imported:
        st.success(
            t(
                "Added as run {id}: it tests, predicts and compares like a run trained here.",
                id=imported,
            )
        )
        st.page_link("pages/views/runs.py", label=t("Open it →"), query_params={"runs": imported})
    finished = [r["id"] for r in reversed(all_runs) if r["status"] == "completed"]
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

wanted = [i for i in st.query_params.get("runs", "").split(",") if i in by_id]
chosen = st.multiselect(
    t("Runs to compare"),
    list(by_id),
    default=wanted,
    format_func=lambda i: label(by_id[i]),
    placeholder=t("Choose options"),
)
if chosen != wanted:
    st.query_params["runs"] = ",".join(chosen)
if not chosen:
    st.caption(t("Choose runs above (or follow a shared link) to compare them."))
    st.stop()

picked = [by_id[i] for i in chosen]


def _report(run_ids: tuple[str, ...]) -> str:
    """The comparison report of these runs (built on the download's click)."""
    from metalearn.engine.report import comparison_report

    store = Store(home())
    try:
        return comparison_report(store, list(run_ids))
    finally:
        store.close()


st.download_button(
    t("Download a report of these runs (HTML)"),
    data=lambda ids=tuple(chosen): _report(ids),
    file_name=f"metalearn-report-{time.strftime('%Y%m%d-%H%M')}.html",
    mime="text/html",
    help=t(
        "one file that opens in any browser, offline, and prints: the runs, their scores with "
        "95% CIs, paired verdicts, curves, every setting and the environment"
    ),
    key="report",
)
m = metrics(tuple(chosen))
colours = run_colours(label(r) for r in picked)  # one per run, in every chart below
st.subheader(t("Test scores"))
done = [r for r in picked if r["result"] and kind(r).metric in r["result"]]
by_metric: dict[str, list[dict]] = {}  # one chart per metric (accuracy, MSE, ...)
for r in done:
    by_metric.setdefault(kind(r).metric_label, []).append(r)
for title, members in by_metric.items():
    rows = [
        {
            "label": label(r),
            "value": r["result"][kind(r).metric],
            "ci95": r["result"][kind(r).ci_key],
        }
        for r in members
    ]
    name = title[0].lower() + title[1:]
    st.plotly_chart(
        figure(score_points(pd.DataFrame(rows), name, colours)), theme=None, key=f"scores-{name}"
    )
for title, curves in steps_curves(done).items():  # e.g. MAML's Figure 5: return vs steps
    name = title.removeprefix("Test ").replace("return", "average return")
    st.plotly_chart(
        figure(score_by_steps(curves, name, colours=colours)), theme=None, key=f"steps-{title}"
    )
st.subheader(t("Loss"))
x = st.radio(t("x axis"), ["step", "time"], horizontal=True, format_func=lambda v: t(X_AXES[v]))
by_kind: dict[str, list[str]] = {}  # losses of different kinds differ in scale: apart
for r in picked:
    by_kind.setdefault(kind(r).label, []).append(r["id"])
for kind_label, ids in by_kind.items():
    title = "loss" if len(by_kind) == 1 else f"loss · {kind_label}"
    part = m[m["run_id"].isin(ids)]
    st.plotly_chart(
        figure(learning_curves(part, ["loss"], x=x, title=title, colours=colours)),
        theme=None,
        key=f"loss-{kind_label}",
    )
val_metrics = list(dict.fromkeys(kind(r).val_metric for r in picked))
for name in val_metrics:
    title = "validation " + name.removeprefix("val_").replace("mse", "MSE")
    st.plotly_chart(
        figure(learning_curves(m, [name], x=x, title=title, colours=colours)),
        theme=None,
        key=f"val-{name}",
    )
    for r in picked:  # a line needs two points: say why a run has fewer
        points = int(((m["run_id"] == r["id"]) & (m["name"] == name)).sum())
        if points < 2 and r["status"] not in ACTIVE:
            every = validation_interval(r["config"])
            trained = (r["result"] or {}).get("train_episodes")
            st.caption(
                t("{run}: no validation (validate every 0).", run=label(r))
                if every == 0
                else t(
                    "{run}: {points} validation point(s): validated every {every} episodes, "
                    "and it trained {trained}.",
                    run=label(r),
                    points=points,
                    every=f"{every:,}",
                    trained=f"{trained:,}" if trained is not None else "?",
                )
            )

st.subheader(t("Convergence speed"))
target_metric = val_metrics[0]
higher = kind(picked[0]).higher_is_better
what = target_metric.replace("_", " ").replace("val ", "validation ").replace("mse", "MSE")
if higher:
    low, high, start = kind(picked[0]).target_range
    target = st.slider(t("Target {what}", what=t(what)), low, high, start, (high - low) / 100)
else:
    target = st.number_input(
        t("Target {what} (at most)", what=t(what)), 0.0, value=1.0, format="%g"
    )
conv = convergence(m, target, target_metric, higher_is_better=higher)
shown_runs = {label(r) for r in picked}
conv = conv[conv["run"].isin(shown_runs)]
missing = sorted(shown_runs - set(conv["run"]))  # no metric rows at all yet
conv = pd.concat([conv, pd.DataFrame({"run": missing, "checks": 0})], ignore_index=True)


def _reached(row) -> str:
    if row["checks"] == 0:
        return t("not measured (no validation)")
    if pd.isna(row["episodes"]):
        return t("not reached")
    return f"{int(row['episodes']):,}"


st.dataframe(
    pd.DataFrame(
        {
            t("run"): conv["run"],
            t("episodes to target"): conv.apply(_reached, axis=1),
            t("seconds to target"): conv["seconds"].map(
                lambda v: "" if pd.isna(v) else f"{v:.1f} s"
            ),
            t("validated every"): conv["every"].map(
                lambda v: "" if pd.isna(v) else t("{n} episodes", n=f"{int(v):,}")
            ),
        }
    ),
    hide_index=True,
)
schedules = sorted({int(v) for v in conv["every"].dropna()})
if len(schedules) > 1 or (schedules and (conv["checks"] == 0).any()):
    st.warning(
        t(
            "These runs were validated on different schedules (every {schedules} episodes): a "
            "run checked more often can be seen to reach the target sooner. To compare them, "
            'train them with the same "Validate every (episodes)".',
            schedules=" / ".join(f"{v:,}" for v in schedules) or "0",
        )
    )

st.subheader(t("Paired comparison on identical test episodes"))


pairs = paired_rows(done)
if pairs:
    table_of_pairs = pd.DataFrame(pairs)
    table_of_pairs["verdict"] = table_of_pairs["verdict"].map(t)
    st.dataframe(
        table_of_pairs.rename(columns={c: t(c) for c in table_of_pairs.columns}),
        hide_index=True,
        column_config={
            t("mean A − B"): st.column_config.NumberColumn(format="%+.3f"),
            t("95% CI ±"): st.column_config.NumberColumn(format="%.3f"),
        },
    )
else:
    st.caption(t("Pairs need two finished runs with the same dataset and test episode shape."))
