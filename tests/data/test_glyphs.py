import time

import pytest
import torch

from metalearn.data import DATASETS, EpisodeSampler
from metalearn.data.glyphs import generate


def test_generation_is_deterministic_and_seed_dependent():
    a, b, c = generate(0, n_classes=6, per_class=4), generate(0, 6, 4), generate(1, 6, 4)
    assert a.shape == (6, 4, 1, 28, 28) and a.dtype == torch.uint8
    assert torch.equal(a, b) and not torch.equal(a, c)
    # Instances of a class differ (jitter, affine, width), and every image has ink.
    assert not torch.equal(a[0, 0], a[0, 1])
    assert (a.flatten(2).amax(-1) > 200).all()


def test_splits_are_disjoint_and_large():
    info = DATASETS["glyphs"].describe(None)
    assert sum(n for n, _ in info.splits.values()) >= 3000
    names = [set(DATASETS["glyphs"].load(None, s).class_names) for s in ("train", "val", "test")]
    assert not (names[0] & names[1] or names[0] & names[2] or names[1] & names[2])


def test_cached_load_is_fast():
    DATASETS["glyphs"].load(None, "test")  # generates (or reads) the cache
    start = time.perf_counter()
    split = DATASETS["glyphs"].load(None, "train")
    assert time.perf_counter() - start < 2.0
    assert split.images.shape[1:] == (1, 28, 28)


@pytest.mark.learning
def test_raw_pixels_are_a_poor_metric():
    """Nearest prototype on raw pixels, 5-way 1-shot on the test split, must stay <= 0.55 (on
    Omniglot's evaluation set it is about 0.42): a model has to learn to do well."""
    split = DATASETS["glyphs"].load(None, "test")
    sampler = EpisodeSampler(split, 5, 1, 15, seed=0)
    accs = []
    for _ in range(600):
        e = sampler.sample()
        pred = torch.cdist(e.query.flatten(1), e.support.flatten(1)).argmin(1)
        accs.append((pred == e.query_labels).float().mean())
    acc = float(torch.stack(accs).mean())
    assert 0.25 < acc <= 0.55, acc
