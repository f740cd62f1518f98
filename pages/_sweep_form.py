"""The Sweeps page's parts: the form that builds a sweep's plan, and cached reads of sweeps.

Not named `_sweeps.py`: Streamlit's page index strips the leading underscore, and that name shadowed
the Sweeps page (AppTest then rendered an empty page).
"""

from __future__ import annotations

import streamlit as st

from metalearn import catalog
from metalearn.config import SPEC
from metalearn.engine.sweep import SweepPlan
from metalearn.engine.trackers import TRACKING
from metalearn.store import Store, home
from pages._i18n import t
from pages._widgets import setting_grid

SHARED = ("episodes", "max_seconds", "eval_episodes", "n_query", "val_every", "device")
SHOT_CHOICES = (1, 2, 3, 5, 10, 20)
WAY_CHOICES = (2, 3, 5, 10, 20)


def sweeps() -> list[dict]:
    return _sweeps(str(home()))


@st.cache_data(ttl=1.0, show_spinner=False)
def _sweeps(path: str) -> list[dict]:
    store = Store(path)
    try:
        return [{**s, "runs": store.group_runs(s["id"])} for s in store.list_sweeps()]
    finally:
        store.close()


def sweep_form() -> SweepPlan:
    """Inputs for a sweep: the axes, the shared settings, where it runs, its mirrors."""
    algorithms, datasets = catalog.algorithms(), catalog.datasets()
    c1, c2 = st.columns([1, 2])
    dataset = c1.selectbox(t("Dataset"), list(datasets), key="sweep-dataset")
    data = datasets[dataset]
    able = [
        n
        for n, a in algorithms.items()
        if data.task in a.tasks and (data.task != "classification" or data.modality in a.modalities)
    ]
    chosen = c2.multiselect(
        t("Algorithms"),
        able,
        default=[n for n in ("protonet", "matching") if n in able][:2] or able[:2],
        format_func=lambda n: f"{n} — {t(catalog.FAMILY_NAMES[algorithms[n].family_in_seed])}",
        placeholder=t("Choose options"),
    )
    c3, c4, c5 = st.columns(3)
    n_seeds = c3.number_input(
        t("Seeds per setting"), 1, 20, 3, help=t("seeds 0, 1, … (each a run)")
    )
    classification = data.task == "classification"
    shots = c4.multiselect(
        t("Shots per class (K)"),
        SHOT_CHOICES,
        default=[1, 5],
        disabled=not classification,
        placeholder=t("Choose options"),
    )
    ways = c5.multiselect(
        t("Classes per episode (N-way)"),
        WAY_CHOICES,
        default=[5],
        disabled=not classification,
        placeholder=t("Choose options"),
    )
    st.markdown(t("**Settings every run shares**"))
    shared = setting_grid([SPEC[n] for n in SHARED], {**defaults(), "episodes": 300}, st, "sweep")
    with st.expander(t("Where it runs, and mirrors of the metrics")):
        e1, e2, e3, e4 = st.columns(4)
        executor = e1.radio(
            t("Executor"),
            ("local", "ray"),
            format_func=t,
            horizontal=True,
            help=t(
                "local: worker processes on this machine, one CPU run at a time; "
                "ray: a Ray cluster (the address below, else $METALEARN_RAY_ADDRESS, else a local "
                "Ray started for the sweep)"
            ),
        )
        address = e2.text_input(
            t("Ray address"), "", help=t("auto, or ray://host:port; empty: local")
        )
        cpus = e3.number_input(t("CPUs per run (Ray)"), 0.5, 64.0, 1.0, 0.5)
        gpus = e4.number_input(t("GPU share per run (Ray)"), 0.0, 1.0, 0.25, 0.05)
        tracking = setting_grid(list(TRACKING), {s.name: None for s in TRACKING}, st, "track")
    axes = {"algorithm": chosen, "seed": list(range(int(n_seeds)))}
    if classification:
        axes |= {"n_shot": sorted(shots), "n_way": sorted(ways)}
    settings = {"dataset": dataset, **{k: v for k, v in shared.items() if v is not None}}
    ray = {"cpus_per_run": cpus, "gpus_per_run": gpus}
    if address:
        ray["address"] = address
    return SweepPlan(
        "",
        axes,
        settings,
        executor,
        ray,
        {k: v for k, v in tracking.items() if v},
    )


def defaults() -> dict:
    return {name: s.default for name, s in SPEC.items()}
