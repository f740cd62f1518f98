"""Teaching presets: every run of every preset is a valid run, on equal time budgets."""

import pytest

from metalearn.engine.presets import BUDGET, PHOTO_BUDGET, PRESETS
from metalearn.engine.validate import make_config, validate
from tests.formats import write_miniimagenet_images


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.title)
def test_every_preset_is_runnable_on_equal_budgets(preset, tmp_path, monkeypatch):
    if any(s["dataset"] == "miniimagenet" for s in preset.settings()):  # its layout, generated
        write_miniimagenet_images(tmp_path, {"train": 64, "val": 16, "test": 20}, 16, side=8)
        monkeypatch.setenv("METALEARN_DATA", str(tmp_path))
    configs = [validate(make_config(s)) for s in preset.settings()]
    assert len(configs) >= 2  # a question answered by comparison
    assert len({c.max_seconds for c in configs}) == 1 and configs[0].max_seconds in (
        BUDGET,
        PHOTO_BUDGET,
    )
    assert {c.eval_episodes for c in configs} == {200}
    assert preset.duration.endswith("on a 2-core CPU") and preset.explain


def test_the_photo_lesson_races_meta_learners_against_the_pretrained_baseline_fairly():
    (preset,) = [p for p in PRESETS if "real photos" in p.title]
    runs = preset.settings()
    assert [r["algorithm"] for r in runs] == ["protonet", "maml", "finetune"]
    assert {r["dataset"] for r in runs} == {"miniimagenet"} and runs[1]["first_order"] is True
    # The same test episodes for all three: one shape, one image side.
    assert {(r["n_way"], r["n_shot"], r["n_query"], r["image_size"]) for r in runs} == {
        (5, 1, 15, 42)
    }


def test_the_second_derivative_preset_differs_only_in_first_order():
    (preset,) = [p for p in PRESETS if "second derivatives" in p.title]
    full, first = (validate(make_config(s)) for s in preset.settings())
    assert (full.hyper["first_order"], first.hyper["first_order"]) == (False, True)
    assert {**full.hyper, "first_order": True} == first.hyper
