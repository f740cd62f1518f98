"""MAML++'s options, each doing what it says."""

import torch

from metalearn.algorithms import ALGORITHMS
from metalearn.algorithms.maml_pp import PerStepBatchNorm
from metalearn.data import DATASETS, EpisodeSampler
from metalearn.engine.validate import make_config


def build(**settings):
    cfg = make_config({"algorithm": "maml_pp", "n_query": 3, **settings})
    info = DATASETS["glyphs"].describe(None)
    torch.manual_seed(0)
    return ALGORITHMS["maml_pp"](cfg, info, info.splits["train"][0])


def episodes(n):
    return EpisodeSampler(DATASETS["glyphs"].load(None, "train"), 5, 1, 3, seed=0).sample_many(n)


def test_multi_step_weights_sum_to_one_and_move_to_the_last_step():
    algo = build(inner_steps=5, episodes=1000, meta_batch=1)
    algo.train()
    start = algo.step_weights(5)
    assert abs(sum(start) - 1) < 1e-9 and max(start) - min(start) < 1e-9  # uniform at first
    algo.updates.fill_(50)  # half way through the annealing (10% of 1000 updates)
    middle = algo.step_weights(5)
    assert abs(sum(middle) - 1) < 1e-9 and middle[-1] > start[-1] and middle[0] < start[0]
    algo.updates.fill_(100)
    assert algo.step_weights(5) == [0, 0, 0, 0, 1]
    algo.eval()
    algo.updates.zero_()
    assert algo.step_weights(5) == [0, 0, 0, 0, 1]  # evaluation: the last step only


def test_derivative_order_and_learning_rate_anneal_over_the_run():
    algo = build(episodes=100, meta_batch=1, first_order_fraction=0.3, lr=1e-3)
    assert algo.first_order_now()
    algo.updates.fill_(30)
    assert not algo.first_order_now()
    opt = algo.make_optimizer()
    algo.updates.fill_(49)  # this update is the 50th: the cosine is at its middle
    algo.train_step(episodes(1), opt)
    assert abs(opt.param_groups[0]["lr"] - (1e-5 + (1e-3 - 1e-5) * 0.5)) < 1e-9


def test_each_step_has_its_own_batch_norm_and_step_sizes_and_both_learn():
    algo = build(inner_steps=2, maml_path="loop", first_order_fraction=0.0)  # 2nd order: all
    norms = [m for m in algo.learner.modules() if isinstance(m, PerStepBatchNorm)]
    assert len(norms) == 4 and norms[0].weight.shape[0] == 3  # steps 0, 1 and the query after
    bn = {n for n, m in algo.learner.named_modules() if isinstance(m, PerStepBatchNorm)}
    assert not any(n.rsplit(".", 1)[0] in bn for n in algo.adapted_names())  # outer loop only
    algo.zero_grad()
    loss, _ = algo.loss(episodes(2), path="loop")
    loss.backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in algo.lslr.values())
    assert norms[0].weight.grad[:3].abs().sum(1).gt(0).all()  # every step's scale is used
    x = torch.randn(4, 64, 5, 5)
    norms[0].step = 0
    with torch.no_grad():
        norms[0].weight[1] += 1.0
    a = norms[0](x)
    norms[0].step = 1
    assert not torch.allclose(a, norms[0](x))


def test_maml_pp_paths_agree():
    grads = {}
    for path in ("loop", "vmap"):
        algo = build(inner_steps=2, maml_path=path, first_order_fraction=0.0)
        algo.train()
        algo.zero_grad()
        loss, _ = algo.loss(episodes(2), path=path)
        loss.backward()
        grads[path] = torch.cat([p.grad.flatten() for p in algo.parameters() if p.grad is not None])
    a, b = grads["loop"], grads["vmap"]
    assert (a - b).norm() / a.norm() < 1e-4
