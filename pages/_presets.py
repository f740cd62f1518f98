"""Presets by teaching goal (`metalearn.engine.presets`), launched as one comparison group from
Home or Train; the Train page's live panel then follows them."""

import streamlit as st

from metalearn.config import ConfigError
from metalearn.engine.presets import PRESETS
from pages._access import can_control
from pages._i18n import t, tc
from pages._ui import jobs


def preset_buttons(where: str) -> None:
    """One row per preset: the question, what to look for, how long, and a launch button."""
    for i, preset in enumerate(PRESETS):
        c1, c2 = st.columns([4, 1])
        c1.markdown(f"**{t(preset.title)}** — {t(preset.duration)}  \n{t(preset.explain)}")
        if c2.button(t("Run it"), key=f"preset-{where}-{i}", disabled=not can_control()):
            if not can_control():
                continue
            from metalearn.engine.validate import make_config

            try:
                _, ids = jobs().launch_group([make_config(s) for s in preset.settings()])
            except ConfigError as err:
                st.error(tc(str(err)))
                continue
            st.switch_page("pages/views/train.py", query_params={"watch": ",".join(ids)})
