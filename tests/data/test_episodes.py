import pytest
import torch

from metalearn.data import DataError, EpisodeSampler, Split


def toy_split(n_classes=8, per_class=10, ragged=False) -> Split:
    counts = [per_class - (c % 3 if ragged else 0) for c in range(n_classes)]
    labels = torch.cat([torch.full((n,), c) for c, n in enumerate(counts)])
    # Each image encodes its own index, so tests can trace what was sampled.
    images = torch.arange(len(labels)).to(torch.uint8).view(-1, 1, 1, 1).expand(-1, 1, 2, 2)
    return Split(images.contiguous(), labels, [f"c{c}" for c in range(n_classes)])


def test_shapes_and_labels():
    e = EpisodeSampler(toy_split(), 5, 2, 3, seed=0).sample()
    assert e.support.shape == (10, 1, 2, 2) and e.query.shape == (15, 1, 2, 2)
    assert e.support_labels.tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
    assert e.query_labels.tolist() == sum([[c] * 3 for c in range(5)], [])
    assert len(set(e.class_ids.tolist())) == 5
    assert e.support.dtype == torch.float32 and float(e.support.max()) <= 1.0


def test_support_and_query_are_disjoint_images_of_the_right_class():
    split = toy_split(ragged=True)
    sampler = EpisodeSampler(split, 4, 3, 4, seed=1)
    for _ in range(50):
        classes, idx = sampler.sample_indices()
        assert idx.shape == (4, 7)
        for row, c in zip(idx, classes, strict=True):
            assert len(set(row.tolist())) == 7  # without replacement
            assert (split.labels[row] == c).all()


def test_same_seed_same_episodes_other_seed_different():
    a, b, c = (EpisodeSampler(toy_split(), 5, 1, 2, seed=s) for s in (3, 3, 4))
    for _ in range(5):
        ea, eb, ec = a.sample(), b.sample(), c.sample()
        assert torch.equal(ea.query, eb.query) and torch.equal(ea.class_ids, eb.class_ids)
    assert not torch.equal(ea.query, ec.query)


def test_global_rng_does_not_change_episodes():
    a = EpisodeSampler(toy_split(), 5, 1, 2, seed=3).sample()
    torch.manual_seed(123)
    torch.rand(100)
    b = EpisodeSampler(toy_split(), 5, 1, 2, seed=3).sample()
    assert torch.equal(a.support, b.support)


def test_every_image_can_be_drawn():
    split = toy_split(n_classes=5, per_class=6, ragged=True)
    sampler = EpisodeSampler(split, 5, 1, 1, seed=0)
    seen = set()
    for _ in range(300):
        seen.update(sampler.sample_indices()[1].flatten().tolist())
    assert seen == set(range(len(split.labels)))


@pytest.mark.parametrize(
    "way,shot,query,msg",
    [(9, 1, 1, "n_way=9 is more than the 8 classes"), (2, 6, 5, r"n_shot \+ n_query = 11")],
)
def test_impossible_shapes_are_clear_errors(way, shot, query, msg):
    with pytest.raises(DataError, match=msg):
        EpisodeSampler(toy_split(), way, shot, query, seed=0)


def test_resize_keeps_dtype_and_leading_dims():
    from metalearn.data.base import resize

    x = torch.randint(0, 256, (3, 4, 1, 28, 28), dtype=torch.uint8)
    y = resize(x, 14)
    assert y.shape == (3, 4, 1, 14, 14) and y.dtype == torch.uint8
    assert resize(x, None) is x and resize(x, 28) is x
    flat = torch.full((1, 1, 8, 8), 200, dtype=torch.uint8)
    assert int(resize(flat, 20).min()) == 200  # a constant image stays constant


def test_sample_many_gives_the_episodes_that_sample_would():
    """The trainer's batched draw (one copy, one gather) must not change which episodes a seed
    gives: runs stay comparable with runs made one episode at a time."""
    one, many = (EpisodeSampler(toy_split(ragged=True), 4, 2, 3, seed=7) for _ in range(2))
    expected = [one.sample() for _ in range(6)]
    got = many.sample_many(4) + many.sample_many(2)
    for e, g in zip(expected, got, strict=True):
        assert torch.equal(e.support, g.support) and torch.equal(e.query, g.query)
        assert torch.equal(e.support_labels, g.support_labels)
        assert torch.equal(e.query_labels, g.query_labels)
        assert torch.equal(e.class_ids, g.class_ids)
    assert not torch.equal(got[0].query, got[1].query)
