"""Widgets made from settings' declarations (`metalearn.settings.Setting`): the Train page's and
the Sweeps page's forms use the same ones."""

from metalearn.settings import Setting
from pages._i18n import t, tt


def setting_input(s: Setting, default, container, key: str):
    """The widget for one declared setting, in the page's language; an optional number left
    empty is None, the empty field saying what that means (`Setting.unset`: "same as test").
    Its key (`key` and the setting's name) does not depend on the language, so switching
    language keeps the value."""
    label, help_text = t(s.label), tt(s.help)
    if s.optional and help_text:
        help_text = help_text.replace("None:", t("empty:")).replace("None：", t("empty:"))
    kw = {"key": f"{key}-{s.name}", "help": help_text or None}
    if s.choices:
        return container.selectbox(label, s.choices, index=s.choices.index(default), **kw)
    if s.type is bool:
        return container.checkbox(label, value=default, **kw)
    if s.type is str:  # free text: empty stands for None
        return container.text_input(label, value=default or "", **kw) or None
    low = None if s.low is None or s.low_open else s.low
    if s.optional:  # empty stands for None
        kw["placeholder"] = t(s.unset) if s.unset else None
    if s.type is float:
        value = None if default is None else float(default)
        got = container.number_input(
            label,
            value=value if s.optional else float(default or 0.0),
            min_value=None if low is None else float(low),
            max_value=None if s.high is None else float(s.high),
            format="%g",
            **kw,
        )
    else:
        value = None if default is None else int(default)
        got = container.number_input(
            label,
            value=value if s.optional else int(default or 0),
            min_value=None if low is None else int(low),
            max_value=None if s.high is None else int(s.high),
            step=1,
            **kw,
        )
    return got


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


def best_first(able: list[dict]) -> list[dict]:
    """Runs ordered by their test score, best first (higher accuracy, lower error as their kind
    scores), then the runs with no score yet, newest first."""
    from pages._ui import kind

    def score(r: dict) -> float | None:
        value = (r["result"] or {}).get(kind(r).metric)
        if value is None:
            return None
        return float(value) if kind(r).higher_is_better else -float(value)

    scored = sorted((r for r in able if score(r) is not None), key=score, reverse=True)
    return scored + [r for r in reversed(able) if score(r) is None]


def why_chosen(run: dict, n: int) -> str:
    """Why a picker starts at `run`: the best score of the `n` runs it offers."""
    from pages._ui import kind, label

    k = kind(run)
    value = (run["result"] or {}).get(k.metric)
    if n == 1:
        return t("Preselected: {run}, the only run that can do this.", run=label(run))
    if value is None:
        return t("Preselected: {run}, the newest of the {n} that can do this.", run=label(run), n=n)
    return t(
        "Preselected: {run}, the best {metric} ({value}) of the {n} runs that can do this.",
        run=label(run),
        metric=t(k.metric_label).lower(),
        value=f"{value:.3f}",
        n=n,
    )


def model_picker(
    able: list[dict], missing: str, container=None, untrained: dict[str, str] | None = None
) -> str:
    """A menu of the runs that can do the page's task, best test score first (it starts there,
    and says so), then the models that need no run (`untrained`: id -> label, e.g. the
    pretrained network), and the chosen id; with neither, says what to train (`missing`), links
    to Train and stops the page."""
    import streamlit as st

    from pages._ui import label

    untrained = untrained or {}
    if not able and not untrained:
        st.info(missing)
        st.page_link("pages/views/train.py", label=t("Train a model →"))
        st.stop()
    ordered = best_first(able)
    place = container or st
    chosen = place.selectbox(
        t("The model"),
        [r["id"] for r in ordered] + list(untrained),
        format_func=lambda i: untrained.get(i) or label(next(r for r in able if r["id"] == i)),
    )
    if ordered and chosen == ordered[0]["id"]:
        place.caption(why_chosen(ordered[0], len(ordered)))
    return chosen
