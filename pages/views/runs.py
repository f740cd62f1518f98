"""Runs and Compare: every run in a table; selected runs side by side. The selection is kept in
the URL (?runs=id1,id2), so a comparison can be shared as a link."""

import pandas as pd
import streamlit as st

from metalearn.engine.progress import training_budget, validation_interval
from metalearn.viz import convergence, learning_curves, score_by_steps, score_points
from metalearn.viz.style import run_colours
from pages._compare import paired_rows, steps_curves
from pages._i18n import N_, figure, t, tc
from pages._run_admin import manage_runs, name_a_run, report_button, take_away_or_bring
from pages._ui import ACTIVE, kind, label, metrics, runs

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
manage_runs(all_runs, c1, c2)  # resume, reset the demo, delete
by_id = {r["id"]: r for r in all_runs}
name_a_run(by_id)
take_away_or_bring(by_id)

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
report_button(chosen)
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
