"""The model-based learners: SNAIL's causality, CNP's likelihood and predictions."""

import math

import pytest
import torch

from metalearn.algorithms import ALGORITHMS
from metalearn.algorithms.cnp import gaussian_log_density
from metalearn.algorithms.snail import AttentionBlock, TCBlock
from metalearn.data import DATASETS, EpisodeSampler, SinusoidSampler
from metalearn.engine.validate import make_config


def build(name, dataset="glyphs", **settings):
    cfg = make_config({"algorithm": name, "dataset": dataset, **settings})
    info = DATASETS[dataset].describe(None)
    torch.manual_seed(0)
    return ALGORITHMS[name](cfg, info, 10), cfg


def test_snail_blocks_are_causal():
    """Changing the input at step t changes no output at an earlier step."""
    torch.manual_seed(0)
    for block in (AttentionBlock(8, 4, 3), TCBlock(8, 6, 5)):
        x = torch.randn(2, 6, 8)
        out = block(x)
        for t in range(6):
            changed = x.clone()
            changed[:, t] += torch.randn(2, 8)
            after = block(changed)
            assert torch.allclose(after[:, :t], out[:, :t], atol=1e-6), (type(block), t)
            assert not torch.allclose(after[:, t:], out[:, t:])


def test_snail_support_labels_reach_only_later_steps_and_the_query_label_never():
    """A support label changed at step t changes no output before t; the query's label is never
    an input, so the prediction is the same whatever it is."""
    algo, cfg = build("snail", n_query=2)
    algo.eval()
    e = EpisodeSampler(DATASETS["glyphs"].load(None, "train"), 5, 1, 2, seed=0).sample()
    order = torch.arange(5)
    with torch.no_grad():
        seq = algo.sequences(e, order)  # [Q, 6, D + 5]
        out = algo.sequence_outputs(seq)
        for t in range(5):
            changed = seq.clone()
            changed[:, t, -5:] = torch.roll(changed[:, t, -5:], 1, dims=-1)  # another label
            after = algo.sequence_outputs(changed)
            assert torch.allclose(after[:, :t], out[:, :t], atol=1e-5), t
            assert not torch.allclose(after[:, -1], out[:, -1])  # the query does read it
        assert (seq[:, -1, -5:] == 0).all()  # no label at the query step
        relabelled = e.query_labels.roll(1)
        other = type(e)(e.support, e.support_labels, e.query, relabelled, e.class_ids, e.n_way)
        assert torch.equal(algo.predict(other), algo.predict(e))


def test_snail_shared_support_prefix_gives_the_full_sequences_scores():
    """Scoring each query as one step after the support prefix (run once) equals running
    every query's whole sequence, support and query, through the network."""
    algo, _ = build("snail", n_query=3)
    algo.eval()
    e = EpisodeSampler(DATASETS["glyphs"].load(None, "train"), 5, 1, 3, seed=1).sample()
    with torch.no_grad():
        fast = algo.scores(e, torch.Generator().manual_seed(3))
        order = torch.randperm(5, generator=torch.Generator().manual_seed(3))
        full = algo.sequence_outputs(algo.sequences(e, order))[:, -1]
    assert fast.shape == (15, 5)
    assert torch.allclose(fast, full, atol=1e-5)
    wrong_order = algo.sequence_outputs(algo.sequences(e, order.flip(0)))[:, -1]
    assert not torch.allclose(fast, wrong_order, atol=1e-5)


def test_cnp_likelihood_is_a_proper_gaussian_log_density():
    mean, std = torch.tensor([0.3]), torch.tensor([0.7])
    normal = torch.distributions.Normal(mean, std)
    ys = torch.linspace(-5, 5, 2001)
    ours = gaussian_log_density(ys, mean, std)
    assert torch.allclose(ours, normal.log_prob(ys), atol=1e-6)
    # it integrates to one
    assert abs(float(ours.exp().sum() * (ys[1] - ys[0])) - 1.0) < 1e-3
    assert math.isclose(
        float(gaussian_log_density(mean, mean, std)),
        -math.log(0.7 * math.sqrt(2 * math.pi)),
        rel_tol=1e-6,
    )


def test_cnp_regression_is_permutation_invariant_and_has_a_band():
    algo, _ = build("cnp", dataset="sinusoid", n_way=1, n_shot=10)
    e = SinusoidSampler(10, 20, seed=0).sample()
    perm = torch.randperm(10)
    shuffled = type(e)(
        e.support[perm], e.support_labels[perm], e.query, e.query_labels, e.class_ids, 1
    )
    with torch.no_grad():
        mean, std = algo.predict_distribution(e, e.query)
        assert torch.allclose(algo.predict(shuffled), mean, atol=1e-6)
    assert mean.shape == std.shape == (20, 1) and (std >= 0.1).all()
    assert torch.equal(algo.predict(e, steps=0), algo.predict(e, steps=10))


@pytest.mark.learning
def test_cnp_learns_sinusoids():
    """A few hundred meta-batches lower the query MSE below the untrained network's (a CNP
    trains for tens of thousands; `scripts/sinusoid_compare.py` runs the long comparison)."""
    algo, _ = build("cnp", dataset="sinusoid", n_way=1, n_shot=10, lr=1e-3)
    test = SinusoidSampler(10, 100, seed=7).sample_many(50)

    def mse():
        with torch.no_grad():
            return float(
                torch.stack([((algo.predict(e) - e.query_labels) ** 2).mean() for e in test]).mean()
            )

    before = mse()
    sampler, opt = SinusoidSampler(10, 10, seed=0), algo.make_optimizer()
    for _ in range(400):
        algo.train_step(sampler.sample_many(16), opt)
    assert mse() < 0.85 * before


def test_cnp_regression_gradient_equals_the_reference():
    """On sinusoid tasks (the classification step is checked for every algorithm in
    tests/engine), the product's loss gives the gradients of `torch.distributions.Normal`."""
    from metalearn.engine.references import REFERENCES

    algo, _ = build("cnp", dataset="sinusoid", n_way=1, n_shot=10)
    tasks = SinusoidSampler(10, 10, seed=3).sample_many(4)
    grads = []
    for step in (lambda: algo.loss(tasks)[0].backward(), None):
        algo.zero_grad()
        if step is None:
            REFERENCES["cnp"](algo, tasks, torch.optim.SGD(algo.parameters(), lr=0.0))
        else:
            step()
        grads.append(torch.cat([p.grad.flatten() for p in algo.parameters()]))
    a, b = grads
    assert (a - b).norm() / a.norm() < 1e-4
