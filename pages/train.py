"""Train: choose an algorithm, a dataset and the episode settings; launch; watch it live."""

import dataclasses

import streamlit as st

from metalearn.algorithms import ALGORITHMS
from metalearn.config import ConfigError, RunConfig
from metalearn.data import DATASETS
from metalearn.data.base import root_problem
from metalearn.models import BACKBONES
from pages._live import live_panel
from pages._ui import availability, can_control, jobs, page_setup, viewer_notice

page_setup()

COMMON = (
    "n_way",
    "n_shot",
    "n_query",
    "train_way",
    "train_shot",
    "train_query",
    "episodes",
    "lr",
    "eval_episodes",
    "val_every",
    "seed",
)
CHOICES = {
    "backbone": list(BACKBONES),
    "head": ["cosine", "linear"],
    "device": ["auto", "cpu", "cuda", "mps"],
    "maml_path": ["auto", "vmap", "loop", "threads"],
    "precision": ["auto", "fp32", "bf16"],
}
HELP = {
    "train_way": "classes per training episode (0: same as n_way)",
    "train_shot": "0: same as n_shot",
    "train_query": "0: same as n_query",
    "val_every": "episodes between validation passes (0: none)",
    "head": "cosine = Baseline++, linear = Baseline",
    "inner_lr": "step size of the per-task adaptation",
    "first_order": "first-order MAML (FOMAML): no second derivatives",
    "maml_path": "auto: time each way on the first updates and keep the fastest "
    "(threads: CPU only)",
    "precision": "auto: bfloat16 feature network on a GPU (faster), fp32 on a CPU",
    "lr_decay_every": "episodes between halvings of the learning rate (ProtoNet paper: 2000; "
    "0: constant)",
}


def field_input(name: str, default, container):
    if name in CHOICES:
        return container.selectbox(
            name, CHOICES[name], index=CHOICES[name].index(default), help=HELP.get(name)
        )
    if isinstance(default, bool):
        return container.checkbox(name, value=default, help=HELP.get(name))
    if isinstance(default, float):
        return container.number_input(
            name, value=default, min_value=1e-6, format="%g", help=HELP.get(name)
        )
    return container.number_input(
        name, value=int(default or 0), min_value=0, step=1, help=HELP.get(name)
    )


st.title("Train")
left, right = st.columns([1, 2])
with left:
    algo_name = st.selectbox(
        "Algorithm", list(ALGORITHMS), format_func=lambda n: f"{n} — {ALGORITHMS[n].family}"
    )
    algo = ALGORITHMS[algo_name]
    defaults = RunConfig(algorithm=algo_name, **algo.defaults)
    st.caption(algo.summary)
    if algo.sequence:
        st.caption(
            "Learns from sequences of n_way classes x n_shot instances each, guessing every "
            "label one step before it is shown; there is no separate query set."
        )
    avail = availability()
    dataset = st.selectbox(
        "Dataset",
        list(DATASETS),
        format_func=lambda n: n + ("" if avail[n] else " (not found here)"),
    )
    st.caption(DATASETS[dataset].summary)
    if not avail[dataset]:
        st.warning(f"Not available here. {DATASETS[dataset].how_to_get}")
    data_root = st.text_input("Data root", "", help="empty: $METALEARN_DATA or ./data")
with right:
    values = {}
    cols = st.columns(4)
    names = list(COMMON) + [s for s in algo.settings if s not in COMMON] + ["device"]
    if algo.train_data == "episodes" and "meta_batch" not in names:
        names.insert(7, "meta_batch")
    if algo.sequence:  # no query set; a fixed output layer, so training way = test way
        names = [n for n in names if n not in ("n_query", "train_query", "train_way")]
    for i, name in enumerate(names):
        values[name] = field_input(name, getattr(defaults, name), cols[i % 4])
for name in ("train_way", "train_shot", "train_query"):
    values[name] = values.get(name) or None
cfg = RunConfig(algorithm=algo_name, dataset=dataset, data_root=data_root or None, **values)

problems = []
outside = root_problem(data_root) if data_root else None
if outside:  # a shared dashboard reads no folder outside its data roots, not even to list it
    problems = [outside]
else:
    try:
        cfg.validate()
    except ConfigError as err:
        problems = err.problems
if problems:
    st.error("Fix these settings before launching:\n" + "\n".join(f"- {p}" for p in problems))

locked = not can_control()
if locked:
    viewer_notice("launching runs")
c1, c2, c3 = st.columns([1, 2, 1])
if c1.button("Launch", type="primary", disabled=bool(problems) or locked) and can_control():
    st.session_state["watch"] = [jobs().launch(cfg)] + st.session_state.get("watch", [])
others = c2.multiselect(
    "Compare in one click: same data and episodes, several algorithms",
    list(ALGORITHMS),
    default=list(ALGORITHMS)[:2],
)
if c3.button("Compare", disabled=bool(problems) or len(others) < 2 or locked) and can_control():
    configs = [dataclasses.replace(cfg, algorithm=a) for a in others]
    try:
        _, ids = jobs().launch_group(configs)
        st.session_state["watch"] = ids + st.session_state.get("watch", [])
    except ConfigError as err:
        st.error("\n".join(err.problems))

st.subheader("Live")
live_panel()
