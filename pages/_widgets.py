"""Widgets made from settings' declarations (`metalearn.settings.Setting`): the Train page's and
the Sweeps page's forms use the same ones."""

from metalearn.settings import Setting
from pages._i18n import t, tt


def setting_input(s: Setting, default, container, key: str):
    """The widget for one declared setting, in the page's language; optional numbers use 0 for
    "none". Its key (`key` and the setting's name) does not depend on the language, so switching
    language keeps the value."""
    label, help_text = t(s.label), tt(s.help)
    if s.optional and help_text:
        help_text = help_text.replace("None:", "0:")
    kw = {"key": f"{key}-{s.name}", "help": help_text or None}
    if s.choices:
        return container.selectbox(label, s.choices, index=s.choices.index(default), **kw)
    if s.type is bool:
        return container.checkbox(label, value=default, **kw)
    if s.type is str:  # free text: empty stands for None
        return container.text_input(label, value=default or "", **kw) or None
    low = None if s.low is None or s.low_open else s.low
    if s.optional:  # 0 stands for None
        low = 0
    if s.type is float:
        value = float(default or 0.0)
        low = None if low is None else float(low)
        high = None if s.high is None else float(s.high)
        got = container.number_input(
            label, value=value, min_value=low, max_value=high, format="%g", **kw
        )
    else:
        got = container.number_input(
            label,
            value=int(default or 0),
            min_value=None if low is None else int(low),
            max_value=None if s.high is None else int(s.high),
            step=1,
            **kw,
        )
    return None if s.optional and not got else got


def setting_grid(settings: list[Setting], defaults: dict, container, key: str) -> dict:
    """Four columns of widgets, the advanced ones folded away (`key`: the form's prefix for the
    widgets' keys)."""
    values: dict = {}
    plain = [s for s in settings if not s.advanced]
    folded = [s for s in settings if s.advanced]
    values |= setting_columns(plain, defaults, container, key)
    if folded:
        values |= setting_columns(folded, defaults, container.expander(t("Advanced settings")), key)
    return values


def setting_columns(settings: list[Setting], defaults: dict, container, key: str) -> dict:
    """The settings' widgets in four columns, in order; their values by name."""
    cols = container.columns(4)
    return {
        s.name: setting_input(s, defaults[s.name], cols[i % 4], key) for i, s in enumerate(settings)
    }


def model_picker(
    able: list[dict], missing: str, container=None, untrained: dict[str, str] | None = None
) -> str:
    """A menu of the runs that can do the page's task (newest first), then the models that need
    no run (`untrained`: id -> label, e.g. the pretrained network), and the chosen id; with
    neither, says what to train (`missing`), links to Train and stops the page."""
    import streamlit as st

    from pages._ui import label

    untrained = untrained or {}
    if not able and not untrained:
        st.info(missing)
        st.page_link("pages/views/train.py", label=t("Train a model →"))
        st.stop()
    return (container or st).selectbox(
        t("The model"),
        [r["id"] for r in reversed(able)] + list(untrained),
        format_func=lambda i: untrained.get(i) or label(next(r for r in able if r["id"] == i)),
    )
