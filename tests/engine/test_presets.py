"""Teaching presets: every run of every preset is a valid run, on equal time budgets."""

import pytest

from metalearn.engine.presets import BUDGET, PRESETS
from metalearn.engine.validate import make_config, validate


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.title)
def test_every_preset_is_runnable_on_equal_budgets(preset):
    configs = [validate(make_config(s)) for s in preset.settings()]
    assert len(configs) >= 2  # a question answered by comparison
    assert {c.max_seconds for c in configs} == {BUDGET}
    assert {c.eval_episodes for c in configs} == {200}
    assert preset.duration.endswith("on a 2-core CPU") and preset.explain


def test_the_second_derivative_preset_differs_only_in_first_order():
    (preset,) = [p for p in PRESETS if "second derivatives" in p.title]
    full, first = (validate(make_config(s)) for s in preset.settings())
    assert (full.hyper["first_order"], first.hyper["first_order"]) == (False, True)
    assert {**full.hyper, "first_order": True} == first.hyper
