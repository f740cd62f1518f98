"""Text runs: which algorithms and backbones fit text, the dataset's defaults, every text-capable
algorithm through one training step and a prediction, and whole runs from the CLI."""

import json

import pytest
import torch

from metalearn import catalog
from metalearn.config import ConfigError
from metalearn.data import EpisodeSampler
from metalearn.engine.build import build_algorithm
from metalearn.engine.kinds import kind_of
from metalearn.engine.validate import make_config, validate
from tests.formats import write_clinc150
from tests.test_cli import run_command as cli

TEXT_ALGORITHMS = [
    n
    for n, a in catalog.algorithms().items()
    if "text" in a.modalities and "classification" in a.tasks  # not the oracle: RL only
]


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    path = tmp_path_factory.mktemp("text")
    write_clinc150(path, per_intent=12)
    return str(path)


def config(root, **values):
    return validate(make_config({"dataset": "clinc150", "data_root": root, **values}))


def test_text_dataset_defaults_and_refusals(root):
    cfg = config(root, algorithm="protonet", n_way=3, n_query=5)
    assert cfg.hyper["backbone"] == "minilm" and cfg.hyper["finetune_encoder"] == "none"
    assert kind_of(cfg).memory(cfg, kind_of(cfg).describe(cfg)) is None  # no image estimate
    cases = {
        "relation": ({}, "relation does not classify text"),
        "mann": ({}, "mann does not classify text"),
        "protonet": ({"backbone": "conv4"}, "backbone 'conv4' reads images.*minilm, bag"),
        "finetune": ({"backbone": "bag", "finetune_encoder": "top"}, "set backbone to minilm"),
        "matching": ({"compile": True}, "compile applies to the image feature networks"),
    }
    for algorithm, (hyper, message) in cases.items():
        with pytest.raises(ConfigError, match=message):
            config(root, algorithm=algorithm, n_way=3, n_query=5, **hyper)
    with pytest.raises(ConfigError, match="backbone 'minilm' reads texts.*conv4"):
        validate(make_config({"algorithm": "protonet", "backbone": "minilm"}))  # on glyphs


def test_every_text_algorithm_is_declared():
    assert {"protonet", "finetune", "maml", "anil", "matching", "r2d2"} <= set(TEXT_ALGORITHMS)
    assert "relation" not in TEXT_ALGORITHMS and "maml_pp" not in TEXT_ALGORITHMS


@pytest.mark.parametrize("name", TEXT_ALGORITHMS)
def test_text_step_and_predict(name, root):
    """One training update changes the weights; a test episode of utterances gets scores; the
    state round-trips, for every algorithm that reads text (frozen encoder features)."""
    cfg = config(root, algorithm=name, n_way=3, n_shot=2, n_query=3)
    kind = kind_of(cfg)
    train, test = kind.load(cfg, "train"), kind.load(cfg, "test")
    algo = build_algorithm(cfg, train.n_classes)
    draw = kind.training_data(cfg, train, torch.device("cpu"))
    before = [p.detach().clone() for p in algo.parameters()]
    metrics = algo.train_step(draw(), algo.make_optimizer())
    assert torch.isfinite(metrics["loss"])
    assert any(not torch.equal(b, p) for b, p in zip(before, algo.parameters(), strict=True))
    episode = EpisodeSampler(test, 3, 2, 3, seed=1).sample()
    algo.eval()
    scores = algo.predict(episode)
    assert scores.shape == (9, 3) and torch.isfinite(scores).all()
    clone = build_algorithm(cfg, train.n_classes)
    clone.load_state_dict(algo.state_dict())
    clone.eval()
    assert torch.allclose(clone.predict(episode), scores, atol=1e-5)


def test_fine_tuning_the_encoder_changes_it(root):
    cfg = config(root, algorithm="protonet", finetune_encoder="top", n_way=3, n_query=3)
    kind = kind_of(cfg)
    train = kind.load(cfg, "train")
    assert train.images.dtype == torch.long  # token ids, not cached features
    algo = build_algorithm(cfg, train.n_classes)
    top = algo.backbone.bert.encoder.layer[-1].output.dense.weight
    low = algo.backbone.bert.encoder.layer[0].output.dense.weight
    top0, low0 = top.detach().clone(), low.detach().clone()
    algo.train_step(kind.training_data(cfg, train, torch.device("cpu"))(), algo.make_optimizer())
    assert not torch.equal(top, top0) and torch.equal(low, low0)


@pytest.mark.integration
def test_cli_frozen_encoder_evaluates_without_training(root, tmp_path):
    """`--episodes 0`: the plain nearest-prototype rule on the pretrained encoder's features,
    reported like any run; the made-up intents are far apart, so it is nearly perfect."""
    proc = cli(
        "train",
        "--dataset",
        "clinc150",
        "--data-root",
        root,
        "--episodes",
        "0",
        "--n-way",
        "3",
        "--n-query",
        "5",
        "--eval-episodes",
        "40",
        "--json",
        home=tmp_path,
    )
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["train_episodes"] == 0 and result["eval_episodes"] == 40
    assert result["test_accuracy"] > 0.9, result

    # predict: labelled support sentences (CSV), queries (JSON, labels optional)
    support = tmp_path / "support.csv"
    support.write_text(
        "text,label\nbook me a flight to rome,travel\ni need a plane ticket,travel\n"
        "what's the weather tomorrow,weather\nwill it rain today,weather\n"
    )
    queries = tmp_path / "queries.json"
    queries.write_text(json.dumps([["find me a flight to tokyo", "travel"], ["is it sunny"]]))
    run = result["run_id"]
    out = cli("predict", "--run", run, "--support", str(support), "--query", str(queries),
              "--json", home=tmp_path)  # fmt: skip
    rows = json.loads(out.stdout.strip().splitlines()[-1])
    assert rows["find me a flight to tokyo"]["class"] == "travel"
    assert rows["find me a flight to tokyo"]["true"] == "travel"
    assert rows["is it sunny"]["class"] == "weather" and "true" not in rows["is it sunny"]
    assert abs(sum(rows["is it sunny"]["scores"].values()) - 1) < 1e-3
    bad_cases = {
        "unknown": ([["fly me", "flights"]], "label 'flights' is not a support class"),
        "long": ([" ".join(["word"] * 80)], "word pieces; the encoder reads at most 64"),
        "empty": ([["   ", "travel"]], "row 1: the utterance is empty"),
    }
    for name, (content, message) in bad_cases.items():
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(content))
        bad = cli("predict", "--run", run, "--support", str(support), "--query", str(path),
                  home=tmp_path, check=False)  # fmt: skip
        assert bad.returncode == 2 and message in bad.stderr, (name, bad.stderr)
        assert "Traceback" not in bad.stderr
    one_class = tmp_path / "one.csv"
    one_class.write_text("text,label\nbook a flight,travel\n")
    bad = cli("predict", "--run", run, "--support", str(one_class), "--query", str(queries),
              home=tmp_path, check=False)  # fmt: skip
    assert bad.returncode == 2 and "at least 2 classes" in bad.stderr
    bad = cli("train", "--dataset", "clinc150", "--data-root", root, "--algorithm", "relation",
              "--n-way", "3", "--n-query", "5", home=tmp_path, check=False)  # fmt: skip
    assert bad.returncode == 2 and "does not classify text" in bad.stderr
    assert "Traceback" not in bad.stderr
