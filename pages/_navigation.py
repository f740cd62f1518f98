"""The Task explorer's adaptation viewer for meta-reinforcement learning: a navigation agent's
paths on a test goal before and after each policy-gradient step, runs side by side."""

import json

import streamlit as st

from metalearn.viz import navigation_paths
from pages._i18n import figure, t
from pages._ui import artifact, has_artifact, kind, label


def navigation_viewer(completed: list[dict]) -> None:
    """Draws the `rollouts` artifact of the chosen finished runs (default: the newest run of each
    algorithm, e.g. MAML next to the pre-trained baseline)."""
    nav_runs = [
        r for r in completed if "rollouts" in kind(r).artifacts and has_artifact(r, "rollouts")
    ]
    if not nav_runs:
        st.info(
            t(
                "No reinforcement-learning run yet. Train MAML on `nav2d` and the pre-trained "
                "baseline (finetune on `nav2d`) to watch each adapt to a goal it cannot see: the "
                "agent's paths before and after each policy-gradient step."
            )
        )
        return
    latest = {}  # the newest run of each algorithm, MAML next to the pre-trained baseline
    for r in nav_runs:
        latest.setdefault(r["config"]["algorithm"], r["id"])
    by_id = {r["id"]: r for r in nav_runs}
    shown_runs = st.multiselect(
        t("Runs"),
        list(by_id),
        default=list(latest.values())[:3],
        format_func=lambda i: label(by_id[i]),
        placeholder=t("Choose options"),
    )
    views = {i: json.loads(artifact(by_id[i], "rollouts").read_text()) for i in shown_runs}
    n_goals = min((len(v["goals"]) for v in views.values()), default=0)
    if n_goals:
        g = st.radio(
            t("Test goal"), list(range(n_goals)), horizontal=True, format_func=lambda i: f"{i + 1}"
        )
        for run_id, view in views.items():
            st.markdown(f"**{label(by_id[run_id])}**")
            cols = st.columns(len(view["steps"]))
            for col, (k, paths) in zip(cols, view["steps"].items(), strict=True):
                col.plotly_chart(
                    figure(
                        navigation_paths(
                            view["goals"][g],
                            paths[g],
                            t("{k} step", k=k) if k == "1" else t("{k} steps", k=k),
                            view["returns"][k][g],
                        )
                    ),
                    theme=None,
                    key=f"nav-{run_id}-{g}-{k}",
                )
