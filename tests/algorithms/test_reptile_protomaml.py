"""Reptile's meta-update and test-time batches; Proto-MAML's prototype head."""

import copy
import dataclasses

import torch
import torch.nn.functional as F

from metalearn.algorithms import ALGORITHMS
from metalearn.algorithms.protomaml import prototype_head
from metalearn.algorithms.protonet import neg_sq_distances, prototypes
from metalearn.data import DATASETS, EpisodeSampler
from metalearn.engine.validate import make_config


def build(name, **settings):
    cfg = make_config({"algorithm": name, "n_query": 3, **settings})
    info = DATASETS["glyphs"].describe(None)
    torch.manual_seed(0)
    return ALGORITHMS[name](cfg, info, info.splits["train"][0]), cfg


def episodes(n, seed=0, shot=1, query=3):
    split = DATASETS["glyphs"].load(None, "train")
    return EpisodeSampler(split, 5, shot, query, seed).sample_many(n)


def test_reptile_meta_update_is_the_interpolation_toward_the_adapted_weights():
    """phi' = phi + epsilon * mean_i (W_i - phi), W_i from `inner_steps` Adam(beta1 = 0) steps
    on task i, computed here as the paper's code does it: torch's own Adam on a copy of the
    network, its weights reset to phi before each task, its moments never reset."""
    algo, cfg = build("reptile", inner_steps=3, inner_batch=4, episodes=400, meta_batch=2)
    tasks = episodes(2)
    phi = {n: p.detach().clone() for n, p in algo.learner.named_parameters()}
    torch.manual_seed(5)
    adapted = []
    net = copy.deepcopy(algo.learner)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.hyper["inner_lr"], betas=(0.0, 0.999))
    for e in tasks:
        with torch.no_grad():
            for n, p in net.named_parameters():
                p.copy_(phi[n])
        x, y = torch.cat([e.support, e.query]), torch.cat([e.support_labels, e.query_labels])
        order = torch.randperm(len(x))
        for t in range(3):
            idx = order[(t * 4) % len(x) :][:4]
            opt.zero_grad()
            F.cross_entropy(net(x[idx]), y[idx]).backward()
            opt.step()
        adapted.append({n: p.detach().clone() for n, p in net.named_parameters()})
    eps = algo.epsilon()
    assert eps == 1.0  # no update yet: the full outer step
    torch.manual_seed(5)
    algo.train_step(tasks, algo.make_optimizer())
    lr = cfg.hyper["inner_lr"]
    for n, p in algo.learner.named_parameters():
        mean_w = (adapted[0][n] + adapted[1][n]) / 2
        if n.endswith(".0.bias") and "encoder" in n:
            # A convolution's bias before batch norm has a zero gradient up to rounding, which
            # Adam's normalisation turns into steps of either sign: bounded, not comparable.
            assert (p - phi[n]).abs().max() <= 3 * lr * 1.01, n
            continue
        assert torch.allclose(p, phi[n] + eps * (mean_w - phi[n]), atol=1e-5), n
    # the moments carried on, as torch's Adam's did: 6 steps over the two tasks
    moments, steps = algo.moments.get()
    assert steps == 6
    for n, p in net.named_parameters():
        assert torch.allclose(moments[n], opt.state[p]["exp_avg_sq"], rtol=1e-4, atol=1e-12), n
    # epsilon anneals linearly to zero over the run's 400 / 2 = 200 updates
    assert abs(algo.epsilon() - (1 - 1 / 200)) < 1e-9


def test_reptile_test_adaptation_leaves_the_moments_and_old_models_load():
    """Adapting to a test episode reads the training's moments without changing them; a model
    saved before the moments were kept loads, its moments starting at zero."""
    algo, _ = build("reptile", inner_steps=2, inner_steps_test=2, meta_batch=2)
    algo.train_step(episodes(2), algo.make_optimizer())
    before = {k: v.clone() for k, v in algo.moments.state_dict().items()}
    algo.eval()
    algo.predict(episodes(1, seed=3)[0])
    after = algo.moments.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    old = {k: v for k, v in algo.state_dict().items() if not k.startswith("moments.")}
    fresh, _ = build("reptile", inner_steps=2, inner_steps_test=2, meta_batch=2)
    fresh.load_state_dict(old)
    assert int(fresh.moments.t) == 0
    assert torch.equal(fresh.learner[0].encoder[0][0].weight, algo.learner[0].encoder[0][0].weight)


def test_reptile_is_not_transductive_unless_asked():
    """Without `transductive`, a query's prediction does not depend on the other queries (batch
    norm sees the support set and that one query); with it, it does."""
    e = episodes(1, seed=3)[0]
    changed_query = e.query.clone()
    changed_query[1:] = torch.rand_like(e.query[1:])
    other = dataclasses.replace(e, query=changed_query)
    for transductive, same in ((False, True), (True, False)):
        algo, _ = build("reptile", inner_steps_test=2, transductive=transductive)
        algo.eval()
        first, changed = algo.predict(e)[0], algo.predict(other)[0]
        assert torch.allclose(first, changed, atol=1e-5) == same, transductive


def test_proto_maml_head_is_the_prototype_rule():
    """W x + b with W = 2 c, b = -||c||^2 differs from -||x - c||^2 by ||x||^2 alone, so its
    softmax is ProtoNet's."""
    torch.manual_seed(0)
    feats, labels, q = torch.randn(10, 6), torch.arange(5).repeat(2), torch.randn(7, 6)
    head = prototype_head(feats, labels, 5)
    linear = q @ head["weight"].T + head["bias"]
    distances = neg_sq_distances(q, prototypes(feats, labels, 5))
    assert torch.allclose(linear - distances, (q**2).sum(1, keepdim=True).expand(7, 5), atol=1e-4)
    assert torch.allclose(linear.softmax(1), distances.softmax(1), atol=1e-5)


def test_proto_maml_paths_agree():
    """The batched (vmap) and task-by-task paths give the same meta-gradient."""
    grads = {}
    for path in ("loop", "vmap"):
        algo, _ = build("protomaml", maml_path=path, inner_steps=2)
        algo.zero_grad()
        loss, _ = algo.loss(episodes(2), path=path)
        loss.backward()
        grads[path] = torch.cat([p.grad.flatten() for p in algo.parameters() if p.grad is not None])
    a, b = grads["loop"], grads["vmap"]
    assert (a - b).norm() / a.norm() < 1e-4
