import math

import torch

from metalearn.algorithms import ALGORITHMS
from metalearn.config import RunConfig
from metalearn.data import DATASETS, EpisodeSampler
from metalearn.engine.evaluate import episodes_per_chunk, evaluate, mean_ci95
from metalearn.engine.kinds import KINDS

EPISODES = KINDS["episodes"]


def seed_of(split="test", **shape):
    return EPISODES.seed(RunConfig(**shape), split)


def test_mean_ci95():
    mean, ci = mean_ci95([0.0, 1.0] * 50)
    assert mean == 0.5
    assert math.isclose(ci, 1.96 * math.sqrt(0.25 * 100 / 99 / 100))
    assert mean_ci95([0.7]) == (0.7, 0.0)


def test_test_episodes_depend_on_task_shape_only():
    assert seed_of() == seed_of() == EPISODES.seed(RunConfig(algorithm="maml", seed=3), "test")
    assert seed_of() != seed_of(n_shot=5)
    assert seed_of() != seed_of("val")


class Recorder(ALGORITHMS["protonet"]):
    """ProtoNet that remembers the episodes it is asked about."""

    seen: list

    def predict(self, episode):
        self.seen.append(episode.query.clone())
        return super().predict(episode)


def test_every_algorithm_sees_the_same_test_episodes():
    split = DATASETS["glyphs"].load(None, "test")
    info = DATASETS["glyphs"].describe(None)
    seen = []
    for seed in (0, 1):  # different runs, different model seeds
        cfg = RunConfig(seed=seed)
        algo = Recorder(cfg, info, 10)
        algo.seen = []
        accs = evaluate(algo, split, seed_of(n_query=3), (5, 1, 3), 7, torch.device("cpu"), chunk=3)
        assert len(accs) == 7 and all(0 <= a <= 1 for a in accs)
        seen.append(algo.seen)
    assert all(torch.equal(a, b) for a, b in zip(*seen, strict=True))
    # ... and they are the episodes a sampler with the published seed draws.
    first = EpisodeSampler(split, 5, 1, 3, seed_of(n_query=3)).sample()
    assert torch.equal(first.query, seen[0][0])


def test_large_images_are_tested_a_few_episodes_at_a_time_with_the_same_scores():
    """84x84 colour photos: 2 five-way episodes per batch, not 50 (50 held 16 GB of
    activations on a CPU); glyphs keep batches of 50; a run's scores do not depend on it."""
    from types import SimpleNamespace

    photos = SimpleNamespace(images=torch.zeros(1, 3, 84, 84, dtype=torch.uint8))
    assert episodes_per_chunk(photos, (5, 1, 15)) == 2
    split = DATASETS["glyphs"].load(None, "test")
    assert episodes_per_chunk(split, (5, 1, 15)) == 50
    algo = ALGORITHMS["protonet"](RunConfig(), DATASETS["glyphs"].describe(None), 10)
    args = (algo, split, seed_of(n_query=3), (5, 1, 3), 6, torch.device("cpu"))
    whole, ones = evaluate(*args), evaluate(*args, chunk=1)
    assert torch.allclose(torch.tensor(whole), torch.tensor(ones))


def test_embedding_snapshot_images_belong_to_its_episode(tmp_path):
    import numpy as np

    from metalearn.engine.snapshots import EmbeddingSnapshots

    split = DATASETS["glyphs"].load(None, "test")
    algo = ALGORITHMS["protonet"](RunConfig(), DATASETS["glyphs"].describe(None), 10)
    snaps = EmbeddingSnapshots(
        algo, split, seed_of(n_query=3), (5, 1, 3), torch.device("cpu"), tmp_path / "e.npz"
    )
    snaps(0)
    z = np.load(tmp_path / "e.npz")
    assert np.allclose(z["support_images"] / 255.0, snaps.episode.support.numpy())
    assert np.allclose(z["query_images"] / 255.0, snaps.episode.query.numpy())
