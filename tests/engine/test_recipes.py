"""Recipes (`metalearn.engine.recipes`): every image method has a valid miniImageNet CPU demo,
each paper recipe is a valid run of its method, and the table script trains every one."""

import sys
from pathlib import Path

import pytest

from metalearn import catalog
from metalearn.engine.recipes import CPU_DEMO, DEMO, PAPERS, demo, recipes
from metalearn.engine.validate import make_config, validate
from tests.formats import write_miniimagenet_images

IMAGE_CLASSIFIERS = [
    name
    for name, a in catalog.algorithms().items()
    if "classification" in a.tasks and "image" in a.modalities
]


@pytest.fixture(scope="module")
def mini_root(tmp_path_factory) -> Path:
    """miniImageNet's layout with its 64 / 16 / 20 classes (20 tiny photos each: enough for
    5-shot episodes with 15 queries)."""
    root = tmp_path_factory.mktemp("mini")
    write_miniimagenet_images(root, {"train": 64, "val": 16, "test": 20}, per_class=20, side=8)
    return root


def test_every_image_method_has_a_cpu_demo_and_nothing_else_does():
    assert set(DEMO) == set(IMAGE_CLASSIFIERS)
    for name in IMAGE_CLASSIFIERS:
        (first, *papers) = recipes(name, "miniimagenet")
        assert first.name == CPU_DEMO and first.values["image_size"] == 42
        assert all(p.algorithm == name for p in papers)
    assert recipes("protonet", "omniglot") == [] and recipes("oracle", "miniimagenet") == []


@pytest.mark.parametrize("recipe", [demo(n) for n in DEMO] + list(PAPERS), ids=lambda r: r.name)
def test_every_recipe_is_a_valid_run_of_its_method(recipe, mini_root):
    cfg = validate(make_config({**recipe.values, "algorithm": recipe.algorithm,
                                "data_root": str(mini_root)}))  # fmt: skip
    given = {**cfg.to_dict(), **cfg.hyper}
    assert all(given[k] == v for k, v in recipe.values.items()), recipe.name
    assert recipe.source


def test_the_paper_recipes_say_what_their_papers_did():
    by_name = {r.name: r.values for r in PAPERS}
    proto = by_name["ProtoNet, 1-shot (Snell et al. 2017)"]
    assert (proto["train_way"], proto["train_query"], proto["lr_decay_every"]) == (30, 15, 2000)
    maml = by_name["MAML, 1-shot (Finn et al. 2017)"]
    assert (maml["inner_lr"], maml["inner_steps"], maml["inner_steps_test"]) == (0.01, 5, 10)
    assert maml["episodes"] == 60_000 * maml["meta_batch"] and maml["meta_batch"] == 4
    assert by_name["First-order MAML, 1-shot (Finn et al. 2017)"]["first_order"] is True
    chen = by_name["Baseline++ (Chen et al. 2019)"]
    assert chen["episodes"] * chen["batch_size"] == 400 * 64 * 600  # 400 epochs of 38,400
    assert chen["head"] == "cosine" and chen["augment"] is True


def test_the_table_script_trains_every_image_method():
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
    import miniimagenet_table as table

    # MANN aside: it is tested on labelled sequences, not on these episodes (the script says why).
    assert {algorithm for algorithm, _ in table.RUNS.values()} == set(IMAGE_CLASSIFIERS) - {"mann"}
    assert all(table.paper(m)[2] for m in table.RUNS)  # a figure's source, or why there is none
    assert (
        table.paper("baseline_pp")[:2] == (48.24, 66.43) and table.paper("cnp")[:2] == (None,) * 2
    )
    assert table.flags({"image_size": 42, "augment": True, "first_order": False}) == [
        "--image-size", "42", "--augment", "--no-first-order"
    ]  # fmt: skip
