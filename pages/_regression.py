"""The Task explorer's few-shot regression viewer: adaptation, step by step (a run's curve after
0, 1, 2, ... inner steps beside the runs on the same test tasks), and each run's curves after
0, 1 and 10 steps."""

import json

import streamlit as st

from metalearn import catalog
from metalearn.viz import adaptation_figure, adaptation_steps
from pages._i18n import figure, t
from pages._ui import artifact, has_artifact, kind, label


def curves_of(run: dict) -> list[dict]:
    """A run's stored curves, read once per version of the file (every rerun asks)."""
    path = artifact(run, "regression_curves")
    return _read_curves(str(path), path.stat().st_mtime)


@st.cache_data(max_entries=64, show_spinner=False)
def _read_curves(path: str, mtime: float) -> list[dict]:
    with open(path) as f:
        return json.load(f)


def algorithms_with_band(run: dict) -> bool:
    """A run whose regression curve is a predictive distribution (a CNP), not adapted steps."""
    curves = curves_of(run)
    return bool(curves) and "std" in curves[0]


def regression_viewer(completed: list[dict]) -> None:
    """The regression runs among the finished ones, as the MAML paper's sinusoid figures."""
    sine_runs = [r for r in completed if "regression_curves" in kind(r).artifacts]
    if not sine_runs:
        st.info(
            t(
                "No regression run yet. Train e.g. MAML on `sinusoid` (K = n_shot points) to see "
                "how a few adaptation steps bend the prediction onto a new sine wave. The MAML "
                "paper's setting: n_shot 10, meta_batch 25, inner_lr 0.01, inner_steps_test 10; "
                "train_query 100 makes each meta-gradient less noisy (tasks are generated)."
            )
        )
    # Adaptation you can watch: a run's curve after 0, 1, 2, ... inner steps, beside the runs
    # scored on the very same test tasks (equal pairing keys), e.g. MAML and fine-tuning.
    adapting = [
        r for r in sine_runs if has_artifact(r, "regression_curves") and not algorithms_with_band(r)
    ]
    if adapting:
        st.subheader(t("Adaptation, step by step"))
        # Newest first, the methods that learn to adapt before the transfer baselines.
        family = {n: a.family for n, a in catalog.algorithms().items()}
        menu = sorted(
            reversed(adapting), key=lambda r: family.get(r["config"]["algorithm"]) == "transfer"
        )
        run_id = st.selectbox(
            t("Run"),
            [r["id"] for r in menu],
            format_func=lambda i: label(next(r for r in adapting if r["id"] == i)),
            key="steps-run",
        )
        chosen = next(r for r in adapting if r["id"] == run_id)
        key = chosen["result"].get("pairing_key")
        partners = [
            r
            for r in sine_runs
            if key
            and r["result"].get("pairing_key") == key
            and r["config"]["algorithm"] != chosen["config"]["algorithm"]
            and has_artifact(r, "regression_curves")
        ][-3:]
        curves = {label(r): curves_of(r) for r in [chosen, *partners]}
        task = st.radio(t("Test task"), [1, 2, 3], horizontal=True, key="steps-task")
        on_task = {name: c[task - 1] for name, c in curves.items() if task <= len(c)}
        st.plotly_chart(
            figure(
                adaptation_steps(
                    on_task, t("Task {task}: press Play, or drag the slider", task=task)
                )
            ),
            theme=None,
            key=f"steps-{run_id}-{task}",
        )
        st.caption(
            t(
                "Each step is one gradient step on the K support points (black). MAML's start "
                "is trained so that a few such steps fit a new sine wave; the fine-tuning "
                "baseline starts from a network trained on all tasks at once."
            )
            + (
                ""
                if partners
                else " " + t("Train fine-tuning on the same settings to see it here.")
            )
        )
    for r in sine_runs[-3:]:
        if has_artifact(r, "regression_curves"):
            st.markdown(
                f"**{label(r)}** — "
                + t("test MSE after 0 / 1 / 10 steps:")
                + " "
                + " / ".join(
                    f"{v:.2f}"
                    for k, v in r["result"]["test_mse_by_steps"].items()
                    if k in ("0", "1", "10")
                )
            )
            cols = st.columns(3)
            for col, (k, curve) in zip(cols, enumerate(curves_of(r)), strict=False):
                col.plotly_chart(
                    figure(adaptation_figure(curve, f"task {k + 1}")),
                    theme=None,
                    key=f"sine-{r['id']}-{k}",
                )
