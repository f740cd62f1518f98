"""Run kinds: every kind's pairing key says truly which runs saw identical test episodes."""

import subprocess
import sys

import pytest
import torch

from metalearn import catalog
from metalearn.config import RunConfig
from metalearn.data import DATASETS
from metalearn.engine.kinds import KINDS, kind_of
from metalearn.engine.validate import make_config


class Recorder:
    """Stands in for an algorithm and keeps every input a kind's evaluation hands it."""

    training = False

    def __init__(self, n_way: int):
        self.n_way, self.seen = n_way, []

    def eval(self):
        return self

    def train(self, mode=True):
        return self

    def predict_many(self, episodes):  # episodes
        self.seen += [torch.cat([e.support.flatten(), e.query.flatten()]) for e in episodes]
        return [torch.zeros(len(e.query), e.n_way) for e in episodes]

    def outcomes(self, episodes, orders):  # sequences: images and their order
        for e, o in zip(episodes, orders, strict=True):
            self.seen.append(torch.cat([e.support[o].flatten(), o.float()]))
        steps = len(orders[0])
        zeros = torch.zeros(len(episodes), steps)
        return torch.zeros(len(episodes), steps, self.n_way), zeros.long(), zeros + 1

    def adaptation_rollouts(self, tasks, n_traj, steps):  # reinforcement learning: goals, noise
        from metalearn.data.nav2d import HORIZON, Trajectories, action_noise

        noise = action_noise(tasks.generator, len(tasks), n_traj, HORIZON)
        self.seen += [torch.cat([g, n.flatten()]) for g, n in zip(tasks.goals, noise, strict=True)]
        zeros = torch.zeros(len(tasks), n_traj, HORIZON)
        return [Trajectories(zeros, zeros, zeros, zeros)] * (steps + 1)

    def predict(self, e, steps=None):  # regression tasks
        self.seen.append(torch.cat([e.support.flatten(), e.query.flatten()]))
        return torch.zeros_like(e.query_labels)


def seen(cfg: RunConfig) -> list[torch.Tensor]:
    kind = kind_of(cfg)
    rec = Recorder(cfg.n_way)
    kind.evaluate(rec, cfg, kind.load(cfg, "test"), torch.device("cpu"), 4, "test")
    return rec.seen


def same(a, b) -> bool:
    return len(a) == len(b) and all(torch.equal(x, y) for x, y in zip(a, b, strict=True))


# For every kind with test episodes: two runs that share a key (other algorithms, seeds and
# training settings) and one that does not (another shape).
PAIRS = {
    "episodes": (
        {"algorithm": "protonet", "seed": 1, "train_way": 20},
        {"algorithm": "maml", "seed": 2, "lr": 0.01},
        {"algorithm": "protonet", "n_shot": 5},
    ),
    "transfer": (
        {"algorithm": "finetune", "seed": 3},
        {"algorithm": "finetune", "head": "linear", "episodes": 9},
        {"algorithm": "finetune", "n_query": 5},
    ),
    "sequences": (
        {"algorithm": "mann", "seed": 1},
        {"algorithm": "mann", "seed": 2, "meta_batch": 3, "n_query": 7},
        {"algorithm": "mann", "n_shot": 5},
    ),
    "regression": (
        {"algorithm": "maml", "dataset": "sinusoid", "n_way": 1, "n_shot": 10},
        {"algorithm": "anil", "dataset": "sinusoid", "n_way": 1, "n_shot": 10, "seed": 4},
        {"algorithm": "maml", "dataset": "sinusoid", "n_way": 1, "n_shot": 5},
    ),
    "rollouts": (
        {"algorithm": "maml", "dataset": "nav2d"},
        {"algorithm": "finetune", "dataset": "nav2d", "seed": 3, "meta_batch": 5},
        {"algorithm": "maml", "dataset": "nav2d", "n_shot": 10},
    ),
}


def test_every_kind_with_test_episodes_is_covered():
    assert set(PAIRS) | {"pipeline"} == set(KINDS)
    for name, cfgs in PAIRS.items():
        assert {kind_of(make_config(c)).name for c in cfgs} == {name}


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_equal_keys_saw_identical_episodes_and_different_keys_did_not(name):
    a, b, other = (make_config(c) for c in PAIRS[name])
    kind = KINDS[name]
    assert kind.pairing_key(a) == kind.pairing_key(b)
    assert same(seen(a), seen(b)) and len(seen(a)) >= 4  # 4 test episodes (or tasks)
    assert kind.pairing_key(other) != kind.pairing_key(a)
    assert not same(seen(other), seen(a))


def test_kinds_of_one_shape_that_score_other_things_never_pair():
    """The bug this design fixed: MANN's sequences and ProtoNet's episodes of one dataset and
    shape were paired; a finetune run's episodes are ProtoNet's, and pair with them."""
    shape = {"n_shot": 10, "n_query": 15}
    keys = {
        a: kind_of(make_config({"algorithm": a, **shape})).pairing_key(
            make_config({"algorithm": a, **shape})
        )
        for a in ("protonet", "mann", "finetune")
    }
    assert keys["protonet"] != keys["mann"]
    assert keys["protonet"] == keys["finetune"]
    regression = make_config({"algorithm": "maml", "dataset": "sinusoid", "n_way": 1})
    longer = make_config({**regression.to_dict(), "inner_steps_test": 10})
    assert KINDS["regression"].pairing_key(regression) != KINDS["regression"].pairing_key(longer)
    seed = make_config({"algorithm": "finetune", "dataset": "cifar10", "finetune_mode": "seed"})
    assert kind_of(seed).name == "pipeline" and kind_of(seed).pairing_key(seed) is None


def test_the_compare_page_pairs_only_equal_keys(home):
    from metalearn.engine.run import execute
    from metalearn.store import Store
    from pages._compare import paired_rows

    store = Store(home)
    small = {"episodes": 2, "eval_episodes": 6, "val_every": 0, "n_shot": 2, "n_query": 3}
    runs = []
    for algorithm in ("protonet", "finetune", "mann"):
        cfg = make_config({"algorithm": algorithm, **small, "finetune_epochs": 1})
        if algorithm != "finetune":
            cfg.hyper.pop("finetune_epochs", None)
        run_id = store.create_run(cfg.to_json())
        execute(cfg, store, run_id)
        runs.append(store.get_run(run_id))
    rows = paired_rows(runs)
    assert [(r["A"].split(" ")[0], r["B"].split(" ")[0]) for r in rows] == [
        ("protonet", "finetune")
    ]
    assert rows[0]["episodes"] == 6


@pytest.mark.integration
def test_kinds_and_the_catalogue_load_no_torch():
    code = (
        "import sys; from metalearn import catalog; from metalearn.engine import kinds, validate;"
        "import pages._compare;"
        "catalog.algorithms(); catalog.datasets(); validate.make_config({'algorithm': 'mann'});"
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", out.stderr


def test_the_catalogue_knows_every_dataset():
    generated = {k.generates: k.name for k in KINDS.values() if k.generates}
    assert generated == {"nav2d": "rollouts"}  # a run kind's own tasks: no dataset class
    assert set(catalog.datasets()) == set(DATASETS) | set(generated)
    for name, entry in catalog.datasets().items():
        if name in generated:
            assert entry.extra["kind"] == generated[name] and not entry.needs_root
            continue
        assert entry.task == DATASETS[name].task and entry.summary == DATASETS[name].summary
        assert entry.modality == DATASETS[name].modality  # images or text, read without torch


def test_training_on_part_of_the_classes_keeps_the_test_episodes(monkeypatch):
    """`train_classes`: the run trains on a fixed subset of the training classes (the smaller
    subset inside the larger, labels renumbered), tests on the same split as a full run, and
    pairs with it; values that cannot give a training episode are refused, saying why."""
    from metalearn.config import ConfigError
    from metalearn.data.base import Split
    from metalearn.engine.kinds.base import RunKind
    from metalearn.engine.validate import validate

    def split(n_classes: int) -> Split:  # 3 images per class; pixel value = class * 3 + index
        labels = torch.arange(n_classes).repeat_interleave(3)
        images = torch.arange(3 * n_classes).view(-1, 1, 1, 1).to(torch.uint8)
        return Split(images, labels, [f"class{c}" for c in range(n_classes)])

    monkeypatch.setattr(RunKind, "load", lambda self, cfg, name, progress=None: split(60))
    full = validate(make_config({"algorithm": "finetune"}))
    cut = validate(make_config({"algorithm": "finetune", "train_classes": 20}))
    kind = kind_of(cut)
    small, whole = kind.splits(cut), kind.splits(full)
    assert small["train"].n_classes == 20 and whole["train"].n_classes == 60
    assert torch.equal(small["test"].images, whole["test"].images)
    assert kind.pairing_key(cut) == kind.pairing_key(full)
    assert sorted(small["train"].labels.unique().tolist()) == list(range(20))
    assert set(small["train"].class_names) < set(whole["train"].keep_classes(50).class_names)
    for label, name in enumerate(small["train"].class_names):
        rows = small["train"].images[small["train"].labels == label].flatten().tolist()
        original = int(name.removeprefix("class"))
        assert rows == [3 * original + i for i in range(3)]
    for wrong in (3, 5000):  # glyphs: 2400 training classes, 5-way training episodes
        with pytest.raises(ConfigError, match=f"train_classes={wrong} .*allowed: 5..2400"):
            validate(make_config({"train_classes": wrong}))


def test_a_text_split_keeps_its_utterances_with_their_classes():
    from metalearn.data.text import TextSplit

    split = TextSplit(
        images=torch.arange(6.0).unsqueeze(1),
        labels=torch.tensor([0, 1, 2, 0, 1, 2]),
        class_names=["a", "b", "c"],
        texts=["a1", "b1", "c1", "a2", "b2", "c2"],
    )
    cut = split.keep_classes(2)
    assert len(cut.texts) == 4 and cut.n_classes == 2
    for text, label, row in zip(cut.texts, cut.labels.tolist(), cut.images[:, 0], strict=True):
        assert text[0] == cut.class_names[label] and split.texts[int(row)] == text
