"""Your own photos with no trained run (`metalearn.engine.own_task`): the pretrained network's
nearest prototype, leave-one-out accuracy on the examples, fine-tuning on them, and the same
through `predict` and the CLI."""

import json

import pytest
import torch
from PIL import Image

from metalearn.data import DataError
from metalearn.engine import predict
from metalearn.engine.own_task import PRETRAINED_MODEL, PretrainedPrototypes, read_task
from metalearn.store import Store
from tests.formats import pattern, png_bytes

CLASSES = ("grey stripes", "blue stripes", "green stripes")


def photos(n_per_class: int, first: int = 0) -> dict[str, list[tuple[str, bytes]]]:
    """Generated 96 px photos: 3 classes of coloured stripe patterns."""
    return {
        name: [
            (f"{name} {i}.png", png_bytes(pattern(c, i, 96)))
            for i in range(first, first + n_per_class)
        ]
        for c, name in enumerate(CLASSES)
    }


@pytest.fixture(scope="module")
def task():
    queries = [(f"q{k}.png", png_bytes(pattern(k % 3, 50 + k, 96))) for k in range(4)]
    return read_task(photos(3), queries), [CLASSES[k % 3] for k in range(4)]


def test_a_task_is_read_as_pixels_with_its_classes(task):
    own, _ = task
    assert own.names == list(CLASSES) and own.labels.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert own.support.shape == (9, 3, 224, 224) and own.queries.shape == (4, 3, 224, 224)
    assert 0 <= own.support.min() and own.support.max() <= 1
    with pytest.raises(DataError, match="at least 2 classes"):
        read_task({"a": photos(1)["grey stripes"], "b": []}, [])
    with pytest.raises(DataError, match="broken.png: not a readable image"):
        read_task({"a": [("broken.png", b"not an image")], "b": photos(1)["green stripes"]}, [])


def test_the_pretrained_network_classifies_new_photos_at_once(task):
    own, truth = task
    model = PretrainedPrototypes()
    probs = model.probabilities(own)  # [4 queries, 3 classes]
    assert [own.names[int(k)] for k in probs.argmax(1)] == truth
    assert torch.allclose(probs.sum(1), torch.ones(4)) and probs.max() < 1
    assert model.support_accuracy(own) == 1.0
    one_each = read_task({k: v[:1] for k, v in photos(1).items()}, [])
    assert model.support_accuracy(one_each) is None  # nothing to leave one out from


def test_leave_one_out_scores_each_example_by_the_others_only():
    """Two classes where one example looks like the other class: it is the one wrong."""
    support = photos(3)
    support["grey stripes"][2] = ("odd.png", png_bytes(pattern(1, 99, 96)))  # a blue one
    own = read_task({k: support[k] for k in CLASSES[:2]}, [])
    assert PretrainedPrototypes().support_accuracy(own) == pytest.approx(5 / 6)


def test_fine_tuning_changes_a_copy_and_keeps_the_shared_model(task):
    own, _ = task
    shared = predict.pretrained_model()
    before = {k: v.clone() for k, v in shared.net.state_dict().items()}
    tuned = PretrainedPrototypes()
    seen = []
    losses = tuned.fine_tune(own, steps=3, lr=1e-3, progress=lambda *a: seen.append(a))
    assert len(losses) == 3 and [s[0] for s in seen] == [1, 2, 3] and tuned.tuned_steps == 3
    changed = [k for k, v in tuned.net.state_dict().items() if not torch.equal(v, before[k])]
    assert changed and all(
        k.startswith(("net.blocks.5", "net.blocks.6", "net.conv_head", "net.bn2")) for k in changed
    )
    assert all(torch.equal(v, shared.net.state_dict()[k]) for k, v in before.items())


def test_predict_classifies_with_no_run_in_the_store(tmp_path, task):
    _, truth = task
    store = Store(tmp_path)
    queries = [(f"q{k}.png", png_bytes(pattern(k % 3, 50 + k, 96))) for k in range(4)]
    out = predict.classify(store, PRETRAINED_MODEL, photos(3), queries)
    assert [v["class"] for v in out.values()] == truth
    z = predict.features(store, PRETRAINED_MODEL, photos(3), queries)
    assert z["support"].shape == (9, 1280) and z["query"].shape == (4, 1280)
    assert store.list_runs() == []


def test_the_cli_predicts_with_the_pretrained_network(cli, tmp_path):
    for name, items in photos(2).items():
        (tmp_path / "support" / name).mkdir(parents=True)
        for file_name, data in items:
            (tmp_path / "support" / name / file_name).write_bytes(data)
    (tmp_path / "query").mkdir()
    Image.fromarray(pattern(2, 70, 96)).save(tmp_path / "query" / "mine.png")
    args = ["--support", str(tmp_path / "support"), "--query", str(tmp_path / "query")]
    res = cli("predict", "--pretrained", *args, "--json", home=tmp_path / "home")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["mine.png"]["class"] == "green stripes"
    (tmp_path / "s.csv").write_text("text,label\nhi,a\nbye,b\n")
    res = cli("predict", "--pretrained", "--support", str(tmp_path / "s.csv"), "--query",
              str(tmp_path / "s.csv"), home=tmp_path / "home")  # fmt: skip
    assert res.returncode == 2 and "--pretrained classifies images" in res.stderr
    res = cli("predict", *args, home=tmp_path / "home")
    assert (
        res.returncode == 2 and "one of the arguments --run --pretrained is required" in res.stderr
    )
