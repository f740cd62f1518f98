"""Presets by teaching goal (`metalearn.engine.presets`), launched as one comparison group from
Home or Train; the Train page's live panel then follows them."""

import streamlit as st

from metalearn import catalog
from metalearn.config import ConfigError
from metalearn.engine.presets import PRESETS
from pages._access import can_control
from pages._i18n import t, tc
from pages._ui import availability, jobs


def preset_buttons(where: str) -> None:
    """One row per preset: the question, what to look for, how long, and a launch button (off,
    with how to get it, where a dataset it needs is not found here)."""
    avail, datasets = availability(), catalog.datasets()
    for i, preset in enumerate(PRESETS):
        c1, c2 = st.columns([4, 1])
        c1.markdown(f"**{t(preset.title)}** — {t(preset.duration)}  \n{t(preset.explain)}")
        missing = sorted(
            {s["dataset"] for s in preset.settings()} - {n for n, a in avail.items() if a}
        )
        for name in missing:
            c1.caption(
                t("Needs {dataset}: not found here.", dataset=name)
                + " "
                + t(datasets[name].how_to_get)
            )
        if c2.button(
            t("Run it"), key=f"preset-{where}-{i}", disabled=not can_control() or bool(missing)
        ):
            if not can_control():
                continue
            from metalearn.engine.validate import make_config

            try:
                _, ids = jobs().launch_group([make_config(s) for s in preset.settings()])
            except ConfigError as err:
                st.error(tc(str(err)))
                continue
            from pages._live import watch

            watch(ids)  # this browser's runs (a demo reset deletes them)
            st.switch_page("pages/views/train.py", query_params={"watch": ",".join(ids)})
