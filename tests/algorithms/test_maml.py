"""MAML's meta-gradient against one built by hand, and the learned parts of its variants."""

import pytest
import torch
import torch.nn.functional as F

from metalearn.algorithms import ALGORITHMS
from metalearn.algorithms.task_paths import TRIALS, ThreadedTasks, candidate_paths, loop_step
from metalearn.config import RunConfig
from metalearn.data import DATASETS, Episode, EpisodeSampler, SinusoidSampler
from metalearn.engine.validate import validate


def sinusoid_algo(name="maml", **kw):
    cfg = RunConfig(
        algorithm=name,
        dataset="sinusoid",
        n_way=1,
        n_shot=5,
        n_query=7,
        inner_lr=0.05,
        inner_steps=2,
        **kw,
    )
    torch.manual_seed(0)
    return ALGORITHMS[name](cfg, DATASETS["sinusoid"].describe(None), 1).double()


def double(e):
    e.support, e.support_labels = e.support.double(), e.support_labels.double()
    e.query, e.query_labels = e.query.double(), e.query_labels.double()
    return e


def reference_meta_grad(algo, episodes, first_order):
    """Autograd through an explicit inner loop, on the module's own weights."""
    names = [n for n, _ in algo.learner.named_parameters()]
    theta = [p for _, p in algo.learner.named_parameters()]
    net = algo.learner.net

    def forward(w, x):
        h = F.relu(F.linear(x, w[0], w[1]))
        h = F.relu(F.linear(h, w[2], w[3]))
        return F.linear(h, w[4], w[5])

    total = 0
    for e in episodes:
        w = list(theta)
        for _ in range(algo.hp.inner_steps):
            loss = F.mse_loss(forward(w, e.support), e.support_labels)
            g = torch.autograd.grad(loss, w, create_graph=not first_order)
            w = [wi - algo.hp.inner_lr * gi for wi, gi in zip(w, g, strict=True)]
        total = total + F.mse_loss(forward(w, e.query), e.query_labels)
    total = total / len(episodes)
    assert len(net) == 5 and len(names) == 6
    return torch.autograd.grad(total, theta)


def meta_gradient(algo, episodes, path):
    """The product's meta-gradient by one of its paths, without changing the weights."""
    if path in ("threads", "loop"):  # the training steps themselves (a backward per task)
        step_with_zero_lr(algo, episodes, path)
        return [p.grad for p in algo.learner.parameters()]
    loss, _ = algo.loss(episodes, path=path)
    return torch.autograd.grad(loss, list(algo.learner.parameters()))


@pytest.mark.parametrize("first_order", [False, True])
@pytest.mark.parametrize("path", ["loop", "vmap", "threads"])
def test_meta_gradient_matches_a_hand_built_reference(first_order, path):
    algo = sinusoid_algo(first_order=first_order)
    sampler = SinusoidSampler(5, 7, seed=1)
    episodes = [double(sampler.sample()) for _ in range(3)]
    expected = reference_meta_grad(algo, episodes, first_order)
    got = meta_gradient(algo, episodes, path)
    for g, r in zip(got, expected, strict=True):
        assert torch.allclose(g, r, atol=1e-5, rtol=1e-5), (g - r).abs().max()
    if not first_order:  # second order really differs from first order here
        fo = reference_meta_grad(algo, episodes, True)
        assert any(not torch.allclose(a, b, atol=1e-6) for a, b in zip(fo, expected, strict=True))


def test_metasgd_step_sizes_receive_gradients():
    algo = sinusoid_algo("metasgd")
    sampler = SinusoidSampler(5, 7, seed=2)
    loss, _ = algo.loss([double(sampler.sample()) for _ in range(2)], path="loop")
    loss.backward()
    assert all(a.grad is not None and a.grad.abs().sum() > 0 for a in algo.alphas.values())


@pytest.mark.parametrize("name", ["metasgd", "anil"])
def test_threads_path_gives_the_loop_gradients_to_every_trainable_tensor(name):
    """Meta-SGD's step sizes and ANIL's body too; tasks split 2 + 1 over two threads."""
    algo = sinusoid_algo(name)
    sampler = SinusoidSampler(5, 7, seed=4)
    episodes = [double(sampler.sample()) for _ in range(3)]
    loss, _ = algo.loss(episodes, path="loop")
    expected = torch.autograd.grad(loss, list(algo.parameters()))
    threads = ThreadedTasks(algo, 2)
    losses, _ = threads.step(episodes, torch.optim.SGD(algo.parameters(), lr=0.0))
    assert torch.allclose(losses.mean(), loss)
    for p, r in zip(algo.parameters(), expected, strict=True):
        assert torch.allclose(p.grad, r, atol=1e-10), (p.grad - r).abs().max()
    assert torch.get_num_threads() >= 1  # restored after the step


def test_anil_adapts_only_the_head():
    algo = sinusoid_algo("anil")
    assert algo.adapted_names() == ["net.4.weight", "net.4.bias"]
    params = {n: p.detach().requires_grad_() for n, p in algo.params().items()}
    e = SinusoidSampler(5, 7, seed=3).sample()
    fast = algo.adapt(params, e.support.double(), e.support_labels.double(), 2, True)
    assert torch.equal(fast["net.0.weight"], params["net.0.weight"])
    assert not torch.equal(fast["net.4.weight"], params["net.4.weight"])


def test_auto_path_measures_each_candidate_and_keeps_the_fastest():
    cfg = RunConfig(algorithm="maml", n_query=2, inner_lr=0.4)
    algo = ALGORITHMS["maml"](cfg, DATASETS["glyphs"].describe(None), 10)
    split = DATASETS["glyphs"].load(None, "train")
    sampler = EpisodeSampler(split, 5, 1, 2, seed=0)
    opt = algo.make_optimizer()
    candidates = candidate_paths(torch.device("cpu"), 2)
    threads = torch.get_num_threads()
    for _ in range(TRIALS * len(candidates)):
        algo.train_step([sampler.sample() for _ in range(2)], opt)
    timings = algo._chooser.timings
    assert set(timings) == set(candidates) and all(len(t) == TRIALS for t in timings.values())
    assert algo.path == min(candidates, key=lambda p: min(timings[p][1:]))
    assert torch.get_num_threads() == threads
    for _ in range(2):  # then only the chosen path runs
        algo.train_step([sampler.sample() for _ in range(2)], opt)
    assert sum(len(t) for t in timings.values()) == TRIALS * len(candidates)


def test_threads_are_a_candidate_only_where_they_can_help():
    cpu = torch.device("cpu")
    assert "threads" not in candidate_paths(cpu, 1)  # one task: nothing to split
    assert "threads" not in candidate_paths(torch.device("cuda"), 32)
    assert "vmap" in candidate_paths(torch.device("cuda"), 32)
    assert "vmap" not in candidate_paths(cpu, 4)  # measured slower, and a memory spike
    if torch.get_num_threads() >= 2:
        assert "threads" in candidate_paths(cpu, 4)
    assert candidate_paths(cpu, 4, compiled=True) == ("loop",)  # `compile`: the loop path only
    assert "vmap" in candidate_paths(torch.device("cuda"), 32, compiled=True)
    assert "vmap" in candidate_paths(cpu, 4, convolutional=False)  # an MLP: 3x the loop here


def test_a_sinusoid_run_on_a_cpu_times_the_batched_path():
    """The cause of a 6.5x slowdown of sinusoid MAML (issue 41: 4,490 -> 693 episodes/s): once
    "vmap" left the CPU's candidates for conv nets, the sinusoid MLP lost it too."""
    cfg = RunConfig(algorithm="maml", dataset="sinusoid", n_way=1, n_shot=5, n_query=5)
    algo = ALGORITHMS["maml"](cfg, DATASETS["sinusoid"].describe(None), 1)
    sampler = SinusoidSampler(5, 5, seed=0)
    opt = algo.make_optimizer()
    algo.train_step([sampler.sample() for _ in range(4)], opt)
    assert "vmap" in algo._chooser.timings


def test_train_way_must_equal_n_way():
    from metalearn.config import ConfigError

    with pytest.raises(ConfigError, match="train_way must equal n_way"):
        validate(RunConfig(algorithm="maml", train_way=20))


def test_meta_lstm_starts_as_plain_gradient_descent():
    cfg = RunConfig(algorithm="meta_lstm", n_query=3, inner_steps=2)
    torch.manual_seed(0)
    algo = ALGORITHMS["meta_lstm"](cfg, DATASETS["glyphs"].describe(None), 10)
    split = DATASETS["glyphs"].load(None, "train")
    e = EpisodeSampler(split, 5, 1, 3, seed=0).sample()
    theta, in_gates, forget_gates = algo.inner_loop(e, 2)
    assert all(i.shape == theta.shape for i in in_gates)  # one gate per coordinate
    assert all(0.005 < float(i.mean()) < 0.02 for i in in_gates)  # a small learning rate
    assert all(float(f.mean()) > 0.98 for f in forget_gates)  # almost no shrinkage
    assert theta.shape == algo.theta0.shape and not torch.equal(theta, algo.theta0)
    _, metrics = algo.loss([e, e])
    assert {"input_gate_1", "forget_gate_2"} <= set(metrics)
    # The logged gate is the mean over coordinates (the same episode twice: the same mean).
    assert torch.allclose(metrics["input_gate_1"], in_gates[0].mean(), rtol=1e-5)
    assert torch.allclose(metrics["forget_gate_2"], forget_gates[1].mean(), rtol=1e-5)


def test_meta_lstm_takes_five_steps_unless_told():
    """One step shows no learned step-size schedule; its own default is five, train and test."""
    from metalearn.engine.validate import resolve

    cfg = resolve(RunConfig(algorithm="meta_lstm"))
    assert (cfg.hyper["inner_steps"], cfg.hyper["inner_steps_test"]) == (5, 5)
    assert resolve(RunConfig(algorithm="maml")).hyper["inner_steps"] == 1  # others keep theirs


MAML_FAMILY = sorted(n for n, cls in ALGORITHMS.items() if issubclass(cls, ALGORITHMS["maml"]))


def image_algo(name):
    """A second-order MAML-family learner on 16x16 images (Conv4 with batch norm), float64."""
    cfg = RunConfig(
        algorithm=name,
        n_way=3,
        n_shot=1,
        n_query=2,
        image_size=16,
        inner_lr=0.4,
        inner_steps=2,
        first_order=False,
        **({"first_order_fraction": 0.0} if name == ALGORITHMS["maml_pp"].name else {}),
    )
    torch.manual_seed(0)
    return ALGORITHMS[name](cfg, DATASETS["glyphs"].describe(None), 10).double()


def image_episodes(n_tasks=3, n_way=3, n_shot=1, n_query=2):
    g = torch.Generator().manual_seed(5)
    labels = lambda k: torch.arange(n_way).repeat_interleave(k)  # noqa: E731
    return [
        Episode(
            torch.randn(n_way * n_shot, 1, 16, 16, generator=g, dtype=torch.float64),
            labels(n_shot),
            torch.randn(n_way * n_query, 1, 16, 16, generator=g, dtype=torch.float64),
            labels(n_query),
            torch.arange(n_way),
            n_way,
        )
        for _ in range(n_tasks)
    ]


@pytest.mark.parametrize("name", MAML_FAMILY)
def test_every_path_gives_the_true_second_order_gradient_through_batch_norm(name):
    """Central finite differences in float64 decide what the meta-gradient is: every path (loop,
    vmap, threads) must give it, batch norm included (the fused kernel's double backward under
    vmap did not: pytorch/functorch#534, see `models.norm`)."""
    algo = image_algo(name)
    assert not algo.first_order_now()
    episodes = image_episodes()
    trainable = [p for p in algo.parameters() if p.requires_grad]
    direction = [torch.randn_like(p) for p in trainable]
    norm = torch.sqrt(sum((v**2).sum() for v in direction))
    direction = [v / norm for v in direction]  # a unit step: no ReLU or max-pool kink crossed

    def loss_at(t: float) -> float:
        with torch.no_grad():
            for p, v in zip(trainable, direction, strict=True):
                p.add_(t * v)
        value = algo.loss(episodes, path="loop")[0].item()
        with torch.no_grad():
            for p, v in zip(trainable, direction, strict=True):
                p.sub_(t * v)
        return value

    eps = 1e-6
    finite_difference = (loss_at(eps) - loss_at(-eps)) / (2 * eps)
    grads = {}
    for path in ("loop", "vmap", "threads"):
        g = meta_gradient_of(algo, episodes, path, trainable)
        grads[path] = g
        along = sum((gi * v).sum() for gi, v in zip(g, direction, strict=True)).item()
        assert along == pytest.approx(finite_difference, rel=1e-6), path
    loop = torch.cat([g.flatten() for g in grads["loop"]])
    for path in ("vmap", "threads"):
        other = torch.cat([g.flatten() for g in grads[path]])
        assert ((other - loop).norm() / loop.norm()).item() < 1e-10, path


def meta_gradient_of(algo, episodes, path, trainable):
    """Every trainable tensor's meta-gradient by `path` (zeros where a tensor gets none)."""
    if path in ("threads", "loop"):
        step_with_zero_lr(algo, episodes, path)
        return [torch.zeros_like(p) if p.grad is None else p.grad.clone() for p in trainable]
    loss, _ = algo.loss(episodes, path=path)
    g = torch.autograd.grad(loss, trainable, allow_unused=True)
    return [torch.zeros_like(p) if gi is None else gi for p, gi in zip(trainable, g, strict=True)]


def step_with_zero_lr(algo, episodes, path):
    """The product's training step by `path` with a zero learning rate: .grad set, no change."""
    optimizer = torch.optim.SGD(algo.parameters(), lr=0.0)
    if path == "threads":
        ThreadedTasks(algo, 2).step(episodes, optimizer)
    else:
        loop_step(algo, episodes, optimizer)
