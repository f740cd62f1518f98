"""The Train page's recipes (`metalearn.engine.recipes`): each paper's settings for a method on a
dataset and the lab's CPU demo, each with how long it takes on this device; choosing one fills
the form's widgets (they stay editable)."""

from __future__ import annotations

import streamlit as st

from metalearn.engine.recipes import Recipe, recipes
from metalearn.engine.validate import make_config
from metalearn.settings import Setting
from pages._estimate import estimate_line
from pages._i18n import t

KEPT = ("algorithm", "dataset", "data_root", "device")  # chosen above, not by a recipe
PENDING = "recipe-pending"  # the chosen recipe's values not yet given to their widgets


def recipe_picker(algorithm: str, dataset: str, container) -> Recipe | None:
    """A menu of this method's recipes for this dataset (nothing when it has none), with the
    chosen one's source and time estimate; choosing one fills the form below."""
    offered = recipes(algorithm, dataset)
    if not offered:
        return None
    names = [r.name for r in offered]
    key = f"recipe-{algorithm}-{dataset}"

    def chosen() -> None:  # the whole form: the recipe's values over the defaults
        name = st.session_state.get(key)
        recipe = next((r for r in offered if r.name == name), None)
        if recipe is None:
            return  # back to "your own settings": the form stays as it is
        full = make_config({**recipe.values, "algorithm": algorithm}).to_dict()
        hyper = full.pop("hyper")
        st.session_state[PENDING] = {k: v for k, v in {**full, **hyper}.items() if k not in KEPT}

    name = container.selectbox(
        t("Start from"),
        [None, *names],
        format_func=lambda n: t("your own settings") if n is None else t(n),
        key=key,
        on_change=chosen,
        help=t("Each paper's settings for this method on this dataset, or the lab's CPU demo."),
    )
    recipe = next((r for r in offered if r.name == name), None)
    if recipe is not None:
        lines = [t("From: {source}.", source=t(recipe.source))]
        if recipe.differs:
            lines.append(t("Differs: {what}.", what=t(recipe.differs)))
        cfg = make_config({**recipe.values, "algorithm": algorithm})
        lines.append(estimate_line(cfg)[0])
        container.caption("  \n".join(lines))
    return recipe


def apply_pending(settings: list[Setting], key: str) -> None:
    """Gives the chosen recipe's values to these settings' widgets (`key`: the form's prefix for
    their keys, as `pages._widgets.setting_input` makes them), before the widgets are drawn."""
    pending = st.session_state.get(PENDING)
    if not pending:
        return
    for s in settings:
        if s.name not in pending:
            continue
        value = pending.pop(s.name)
        if s.type is float and value is not None:
            value = float(value)
        st.session_state[f"{key}-{s.name}"] = value
