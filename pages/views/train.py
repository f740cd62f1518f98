"""Train: choose an algorithm, a dataset and the episode settings; launch; watch it live.

Every widget comes from a setting's declaration (`metalearn.settings.Setting`): the run spec's
fields that apply to the run's kind, then the algorithm's own hyperparameters."""

import streamlit as st

from metalearn import catalog
from metalearn.config import EPISODE, SPEC, ConfigError
from metalearn.engine.kinds import KINDS, kind_name
from metalearn.engine.validate import make_config, notices, validate
from metalearn.settings import NETWORK
from metalearn.store import MAX_NAME, MAX_NOTE
from pages._access import can_control, viewer_notice
from pages._estimate import estimate_line, probe
from pages._i18n import t, tc
from pages._live import live_panel, watch, watched
from pages._presets import preset_buttons
from pages._recipes import PENDING, apply_pending, recipe_picker
from pages._ui import availability, jobs
from pages._widgets import setting_columns

FIXED = ("algorithm", "dataset", "data_root", "device")  # chosen above the grid, or last
SHARED = {s.name for s in NETWORK}  # what a comparison keeps from this form: the same network
BUDGETED_EPISODES = 100_000  # with a time budget, the budget ends training first
PROBE_SECONDS, PROBE_TESTS = 20, 20  # "Time it here": a short run that sets the pace


st.title(t("Train"))
# A run launched here or from a quick start or lesson (?watch=...): its live panel leads the
# page, above the form, so the one click lands on the run.
landed = bool(watched())
if landed:
    st.subheader(t("Live"))
    live_panel()
    st.subheader(t("Start another run"))
algorithms, datasets = catalog.algorithms(), catalog.datasets()
left, right = st.columns([1, 2])
with left:
    names = list(algorithms)  # menu order (the article's families); the declared default first
    algo_name = st.selectbox(
        t("Algorithm"),
        names,
        index=names.index(SPEC["algorithm"].default) if SPEC["algorithm"].default in names else 0,
        format_func=lambda n: f"{n} — {t(catalog.FAMILY_NAMES[algorithms[n].family_in_seed])}",
        key="train-algorithm",
    )
    algo = algorithms[algo_name]
    st.caption(t(algo.summary))
    avail = availability()
    dataset = st.selectbox(
        t("Dataset"),
        list(datasets),
        format_func=lambda n: n + ("" if avail.get(n) else t(" (not found here)")),
        key="train-dataset",
    )
    st.caption(t(datasets[dataset].summary))
    if not avail.get(dataset):
        st.warning(t("Not available here.") + " " + t(datasets[dataset].how_to_get))
    data_root = st.text_input(
        t(SPEC["data_root"].label), "", help=t(SPEC["data_root"].help), key="train-data-root"
    )
    recipe_picker(algo_name, dataset, st)
modality = datasets[dataset].modality  # images or text: settings of the other kind are hidden
own = algo.offered(modality)
# A mode that makes another kind of run (fine-tuning's "seed": the article's CIFAR-10 pipeline)
# starts from that kind's defaults (its recipe's 5000 batches of 100), in widgets of its own.
mode_name = algo.mode_setting if any(s.name == algo.mode_setting for s in own) else None
mode = (st.session_state.get(PENDING) or {}).get(mode_name) or st.session_state.get(
    f"{algo_name}-{mode_name}"
)
start = make_config(
    {"algorithm": algo_name, "dataset": dataset, **({mode_name: mode} if mode else {})}
)
default_mode = next((s.default for s in own if s.name == mode_name), None)
hyper_key = f"{algo_name}-{mode}" if mode and mode != default_mode else algo_name
with right:
    episode_box, training_box, hyper_box = st.container(), st.container(), st.container()
    advanced_box = st.expander(t("Advanced settings"))
    hyper_box.markdown("**" + t("{algorithm} settings", algorithm=algo_name) + "**")
    moded = [s for s in own if s.name == mode_name]  # the mode's own widget: one key always
    rest = [s for s in own if s.name != mode_name]
    apply_pending(moded, algo_name)
    apply_pending(rest, hyper_key)
    hyper = setting_columns(moded, start.hyper, hyper_box, algo_name)
    hyper |= setting_columns([s for s in rest if not s.advanced], start.hyper, hyper_box, hyper_key)
    hyper |= setting_columns([s for s in rest if s.advanced], start.hyper, advanced_box, hyper_key)
try:
    kind = KINDS[kind_name(algo_name, dataset, hyper)]
except ConfigError as err:
    st.error("\n".join(tc(p) for p in err.problems))
    task = datasets[dataset].task
    able = [n for n, a in algorithms.items() if task in a.tasks]
    st.info(
        t(
            "Algorithms that do {task}: {names}. Choose one above.",
            task=t(task),
            names=", ".join(able),
        )
    )
    st.stop()
if kind.description:
    left.caption(t(kind.description))
shown = [
    kind.setting(s)
    for n, s in SPEC.items()
    if n not in FIXED and n not in kind.hidden and s.modality in (None, modality)
]
shown.append(SPEC["device"])
episode = [s for s in shown if s.group == EPISODE and not s.advanced]
training = [s for s in shown if s.group != EPISODE and not s.advanced]
episode_box.markdown("**" + t("Episode") + "** · " + t(kind.label))
training_box.markdown("**" + t("Training") + "**")
defaults, key = start.to_dict(), f"spec-{kind.name}"  # a kind's own defaults: its own widgets
apply_pending(shown, key)
spec = setting_columns(episode, defaults, episode_box, key)
spec |= setting_columns(training, defaults, training_box, key)
spec |= setting_columns([s for s in shown if s.advanced], defaults, advanced_box, key)
st.session_state.pop(PENDING, None)  # a recipe's values this form does not show: dropped
values = {**spec, **hyper, "algorithm": algo_name, "dataset": dataset}
if data_root:
    values["data_root"] = data_root


def outside_roots(root: str) -> str | None:
    """Why a dashboard may not read `root` (imported here, once the menus are drawn: the data
    package loads torch)."""
    from metalearn.data.base import root_problem

    return root_problem(root)


problems = []
outside = outside_roots(data_root) if data_root else None
if outside:  # a shared dashboard reads no folder outside its data roots, not even to list it
    problems = [outside]
else:
    try:
        cfg = validate(make_config(values))
    except ConfigError as err:
        problems = err.problems
if problems:
    st.error(
        t("Fix these settings before launching:") + "\n" + "\n".join(f"- {tc(p)}" for p in problems)
    )
else:
    for notice in notices(cfg):
        st.warning(tc(notice[0].upper() + notice[1:] + "."))

if kind.task == "classification" and "n_query" in spec and not problems:
    with st.expander(t("Preview a test episode of this shape")):
        st.caption(
            t(
                "The support and query examples a {n_way}-way {n_shot}-shot test episode shows "
                "a model, drawn from the test classes (never seen in training).",
                n_way=spec["n_way"],
                n_shot=spec["n_shot"],
            )
        )
        if st.toggle(t("Draw one"), key="train-preview"):
            from pages._episodes import preview

            seed = st.session_state.setdefault("train-preview-seed", 0)
            if st.button(t("Another episode"), key="train-preview-again"):
                st.session_state["train-preview-seed"] = seed = seed + 1
            preview(dataset, spec["n_way"], spec["n_shot"], spec["n_query"], seed, data_root)

locked = not can_control()
notice = st.container()  # always there: unlocking does not shift the buttons below it
if locked:
    with notice:
        viewer_notice(t("launching runs"))
if not problems:  # how long it takes here, from the store's finished runs
    line, unknown = estimate_line(cfg)
    e1, e2 = st.columns([4, 1])
    e1.caption(line)
    if (
        unknown
        and e2.button(
            t("Time it here"),
            key="train-probe",
            disabled=locked,
            help=t(
                "A {seconds}-second run of these settings, tested on {tests} episodes: then the "
                "estimate goes by its pace on this device.",
                seconds=PROBE_SECONDS,
                tests=PROBE_TESTS,
            ),
        )
        and can_control()
    ):
        watch([jobs().launch(probe(cfg, PROBE_SECONDS, PROBE_TESTS))])
        st.rerun()  # the live panel now leads the page
n1, n2 = st.columns([1, 2])
run_name = n1.text_input(
    t("Name (optional)"), key="train-name", max_chars=MAX_NAME, placeholder=t("e.g. lesson 2, A")
)
run_note = n2.text_input(t("Note (optional)"), key="train-note", max_chars=MAX_NOTE)
c1, c2, c3 = st.columns([1, 2, 1])
if c1.button(t("Launch"), type="primary", disabled=bool(problems) or locked) and can_control():
    watch([jobs().launch(cfg, name=run_name, note=run_note)])
    st.rerun()  # the live panel now leads the page
able = [  # those that do the dataset's task on its kind of examples
    n
    for n, a in algorithms.items()
    if datasets[dataset].task in a.tasks
    and (datasets[dataset].task != "classification" or modality in a.modalities)
]
baseline = next((n for n in ("finetune", *able) if n in able and n != algo_name), None)
others = c2.multiselect(
    t("Compare in one click: same data and episodes, several algorithms"),
    able,
    default=[n for n in (algo_name, baseline) if n in able],  # this one against the baseline
    key=f"compare-{algo_name}-{datasets[dataset].task}",
    placeholder=t("Choose options"),
)
budget = c2.number_input(
    t("Same training time for each (seconds; 0: the same number of episodes)"),
    min_value=0,
    max_value=3600,
    value=0,
    step=10,
    key="compare-budget",
    help=t(
        "The fair race on a CPU: methods differ tenfold in seconds per episode. Each run "
        "trains until its time is up, then all are tested on the same episodes."
    ),
)
if c3.button(t("Compare"), disabled=bool(problems) or len(others) < 2 or locked) and can_control():
    configs = []
    timed = {"max_seconds": budget, "episodes": BUDGETED_EPISODES} if budget else {}
    for name in others:  # each with its own (its paper's) defaults, on the same network
        own = {s.name for s in algorithms[name].settings}
        shared = {k: v for k, v in hyper.items() if k in own and k in SHARED}
        chosen = {**spec, **shared, **timed, "algorithm": name, "dataset": dataset}
        configs.append(make_config({**chosen, **({"data_root": data_root} if data_root else {})}))
    try:
        _, ids = jobs().launch_group(configs)
        watch(ids)
    except ConfigError as err:
        st.error("\n".join(tc(p) for p in err.problems))
    else:
        st.rerun()  # the live panel now leads the page

with st.expander(t("Lessons: presets by teaching goal")):
    preset_buttons("train")
if not landed:
    st.subheader(t("Live"))
    live_panel()
