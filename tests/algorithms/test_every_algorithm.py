"""One suite run over every registered algorithm: the protocol, checkpoints and learning."""

import pytest
import torch

from metalearn.algorithms import ALGORITHMS
from metalearn.config import RunConfig
from metalearn.data import DATASETS, BatchSampler, EpisodeSampler
from metalearn.engine.evaluate import evaluate, mean_ci95

CLASSIFIERS = [n for n, a in ALGORITHMS.items() if "classification" in a.tasks]


def build(name, **kw):
    cfg = RunConfig(algorithm=name, **kw)
    info = DATASETS["glyphs"].describe(None)
    torch.manual_seed(0)
    return ALGORITHMS[name](cfg, info, n_train_classes=info.splits["train"][0]), cfg


def train_data(algo, cfg, split, sampler):
    if algo.train_data == "episodes":
        return [sampler.sample() for _ in range(cfg.meta_batch)]
    return sampler.sample(cfg.batch_size)


@pytest.fixture(scope="module")
def glyphs():
    return {s: DATASETS["glyphs"].load(None, s) for s in ("train", "test")}


def test_registry_metadata():
    assert {"protonet", "finetune"} <= set(ALGORITHMS)
    for name, algo in ALGORITHMS.items():
        assert algo.name == name and algo.summary and algo.family
        assert algo.train_data in ("episodes", "batches")
        assert algo.__doc__ and "20" in algo.__doc__  # cites its paper (year)


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_step_predict_and_state_round_trip(name, glyphs):
    algo, cfg = build(name)
    sampler = (
        EpisodeSampler(glyphs["train"], 5, 1, 3, seed=0)
        if algo.train_data == "episodes"
        else BatchSampler(glyphs["train"], seed=0)
    )
    opt = algo.make_optimizer()
    before = [p.detach().clone() for p in algo.parameters()]
    metrics = algo.train_step(train_data(algo, cfg, glyphs["train"], sampler), opt)
    assert {"loss", "accuracy"} <= set(metrics) and torch.isfinite(metrics["loss"])
    assert any(not torch.equal(b, p) for b, p in zip(before, algo.parameters(), strict=True))
    episode = EpisodeSampler(glyphs["test"], 5, 2, 3, seed=1).sample()
    algo.eval()
    scores = algo.predict(episode)
    assert scores.shape == (15, 5)
    clone, _ = build(name)
    clone.load_state_dict(algo.state_dict())
    clone.eval()
    assert torch.allclose(clone.predict(episode), scores, atol=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("name,episodes,minimum", [("protonet", 120, 0.75), ("finetune", 300, 0.7)])
def test_learns_on_glyphs_within_seconds(name, episodes, minimum, glyphs):
    """A few seconds of training lifts 5-way 1-shot test accuracy far above chance (0.2) and above
    the untrained network."""
    algo, cfg = build(name, batch_size=64)
    untrained = mean_ci95(evaluate(algo, glyphs["test"], "glyphs", (5, 1, 15), 100, "cpu"))[0]
    sampler = (
        EpisodeSampler(glyphs["train"], 5, 1, 15, seed=0)
        if algo.train_data == "episodes"
        else BatchSampler(glyphs["train"], seed=0)
    )
    opt = algo.make_optimizer()
    algo.train()
    for _ in range(episodes):
        algo.train_step(train_data(algo, cfg, glyphs["train"], sampler), opt)
    trained = mean_ci95(evaluate(algo, glyphs["test"], "glyphs", (5, 1, 15), 100, "cpu"))[0]
    assert trained >= minimum and trained > untrained + 0.05, (untrained, trained)
