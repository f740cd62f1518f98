"""Widgets made from settings' declarations (`metalearn.settings.Setting`): the Train page's and
the Sweeps page's forms use the same ones."""

from metalearn.settings import Setting


def setting_input(s: Setting, default, container):
    """The widget for one declared setting; optional numbers use 0 for "none"."""
    help_text = s.help.replace("None:", "0:") if s.optional else s.help
    if s.choices:
        return container.selectbox(
            s.label, s.choices, index=s.choices.index(default), help=help_text or None
        )
    if s.type is bool:
        return container.checkbox(s.label, value=default, help=help_text or None)
    if s.type is str:  # free text: empty stands for None
        return container.text_input(s.label, value=default or "", help=help_text or None) or None
    low = None if s.low is None or s.low_open else s.low
    if s.optional:  # 0 stands for None
        low = 0
    if s.type is float:
        value = float(default or 0.0)
        low = None if low is None else float(low)
        high = None if s.high is None else float(s.high)
        got = container.number_input(
            s.label, value=value, min_value=low, max_value=high, format="%g", help=help_text or None
        )
    else:
        got = container.number_input(
            s.label,
            value=int(default or 0),
            min_value=None if low is None else int(low),
            max_value=None if s.high is None else int(s.high),
            step=1,
            help=help_text or None,
        )
    return None if s.optional and not got else got


def setting_grid(settings: list[Setting], defaults: dict, container) -> dict:
    """Four columns of widgets, the advanced ones folded away."""
    values: dict = {}
    plain = [s for s in settings if not s.advanced]
    folded = [s for s in settings if s.advanced]
    cols = container.columns(4)
    for i, s in enumerate(plain):
        values[s.name] = setting_input(s, defaults[s.name], cols[i % 4])
    if folded:
        more = container.expander("Advanced settings").columns(4)
        for i, s in enumerate(folded):
            values[s.name] = setting_input(s, defaults[s.name], more[i % 4])
    return values


def model_picker(able: list[dict], missing: str, container=None) -> str:
    """A menu of the runs that can do the page's task (newest first), and the chosen run's id;
    with none, says what to train (`missing`), links to Train and stops the page."""
    import streamlit as st

    from pages._ui import label

    if not able:
        st.info(missing)
        st.page_link("pages/views/train.py", label="Train a model →")
        st.stop()
    return (container or st).selectbox(
        "The model",
        [r["id"] for r in reversed(able)],
        format_func=lambda i: label(next(r for r in able if r["id"] == i)),
    )
