"""Reinforcement learning: the policy-gradient estimator against hand-computed gradients, and
one suite over every algorithm that runs RL tasks."""

import pytest
import torch

from metalearn.algorithms import ALGORITHMS
from metalearn.algorithms.policy_gradient import (
    DISCOUNT,
    advantages,
    per_task,
    pg_step,
    returns_to_go,
    sample,
    surrogate,
)
from metalearn.data.nav2d import NavTasks, Trajectories, draw_goals
from metalearn.engine.build import build_algorithm
from metalearn.engine.kinds import kind_of
from metalearn.engine.references import REFERENCES
from metalearn.engine.validate import make_config
from metalearn.models.policy import GaussianPolicy

RL = [n for n, a in ALGORITHMS.items() if "reinforcement" in a.tasks]
TRAINED_TASKS = 2000  # 200 meta-updates of 10 goals: about 15 s on this 2-core CPU


def tiny_batch(n_tasks=2, n_traj=3, horizon=4, seed=0) -> Trajectories:
    g = torch.Generator().manual_seed(seed)
    obs = torch.randn(n_tasks, n_traj, horizon, 2, generator=g) * 0.3
    positions = torch.cat([torch.zeros(n_tasks, n_traj, 1, 2), obs], 2)
    return Trajectories(
        obs,
        torch.randn(n_tasks, n_traj, horizon, 2, generator=g),
        -torch.rand(n_tasks, n_traj, horizon, generator=g),
        positions,
    )


def test_returns_to_go_discount_the_future():
    rewards = torch.tensor([[1.0, 2.0, 3.0]])
    g = DISCOUNT
    assert torch.allclose(
        returns_to_go(rewards), torch.tensor([[1 + 2 * g + 3 * g * g, 2 + 3 * g, 3.0]])
    )


def test_advantages_are_standardised_per_task_and_remove_what_the_baseline_explains():
    batch = tiny_batch(n_traj=5, horizon=6)
    adv = advantages(batch)
    assert torch.allclose(adv.mean((1, 2)), torch.zeros(2), atol=1e-5)
    assert torch.allclose(adv.std((1, 2)), torch.ones(2), atol=1e-4)
    # Trajectories whose rewards are higher throughout get the higher advantages.
    lifted = Trajectories(
        batch.observations,
        batch.actions,
        batch.rewards + torch.arange(5.0).view(1, 5, 1),
        batch.positions,
    )
    assert (advantages(lifted).mean(2).argmax(1) == 4).all()


def test_a_converged_policy_whose_states_never_change_still_gets_finite_advantages():
    batch = tiny_batch(n_traj=4, horizon=100)
    still = torch.full_like(batch.observations, 0.3)  # every state the same: collinear features
    adv = advantages(Trajectories(still, batch.actions, batch.rewards, batch.positions))
    assert torch.isfinite(adv).all() and adv.abs().max() > 0


def test_policy_gradient_equals_the_hand_computed_one_on_a_tiny_batch():
    """For a Gaussian policy, d log pi / d mu = (a - mu) / sigma^2 and
    d log pi / d log sigma = ((a - mu) / sigma)^2 - 1: the surrogate's gradient with respect to
    the output bias and the log standard deviation is minus their advantage-weighted mean."""
    torch.manual_seed(0)
    policy = GaussianPolicy()
    with torch.no_grad():
        policy.log_std.copy_(torch.tensor([-0.5, 0.3]))
    batch = tiny_batch(n_tasks=1)
    adv = torch.randn(1, 3, 4, generator=torch.Generator().manual_seed(9))
    params = policy.params()
    loss = surrogate(policy, params, batch, adv).sum()
    g_bias, g_log_std = torch.autograd.grad(loss, [params["layers.2.bias"], params["log_std"]])
    with torch.no_grad():
        mu = policy.mean(params, batch.observations.reshape(1, -1, 2))[0]  # [M, 2]
        a, w = batch.actions.reshape(-1, 2), adv.reshape(-1, 1)
        sigma = policy.log_std.exp()
        hand_bias = -(w * (a - mu) / sigma**2).mean(0)
        hand_log_std = -(w * (((a - mu) / sigma) ** 2 - 1)).mean(0)
    assert torch.allclose(g_bias, hand_bias, atol=1e-6)
    assert torch.allclose(g_log_std, hand_log_std, atol=1e-6)


def test_one_step_on_several_tasks_is_each_task_on_its_own():
    torch.manual_seed(0)
    policy = GaussianPolicy()
    batch = tiny_batch(n_tasks=3)
    fast = pg_step(policy, per_task(policy.params(), 3), batch, lambda n: 0.1)
    for i in range(3):
        one = Trajectories(*(t[i : i + 1] for t in vars(batch).values()))
        alone = pg_step(policy, per_task(policy.params(), 1), one, lambda n: 0.1)
        for n in fast:
            assert torch.allclose(fast[n][i], alone[n][0], atol=1e-6), n


def rl_config(name, **kw):
    return make_config(
        {"algorithm": name, "dataset": "nav2d", "n_shot": 4, "n_query": 4, "meta_batch": 3, **kw}
    )


@pytest.mark.parametrize("name", RL)
def test_step_adapt_and_state_round_trip(name):
    cfg = rl_config(name)
    assert kind_of(cfg).name == "rollouts"
    algo = build_algorithm(cfg, 1)
    sampler = kind_of(cfg).training_data(cfg, None, torch.device("cpu"))
    before = [p.detach().clone() for p in algo.parameters()]
    metrics = algo.train_step(sampler(), algo.make_optimizer())
    assert {"loss", "return"} <= set(metrics) and torch.isfinite(metrics["return"])
    assert any(not torch.equal(b, p) for b, p in zip(before, algo.parameters(), strict=True))
    goals = draw_goals(2, torch.Generator().manual_seed(1))
    tasks = lambda: NavTasks(goals, torch.Generator().manual_seed(2))  # noqa: E731
    batches = algo.adaptation_rollouts(tasks(), 3, 2)
    assert len(batches) == 3 and batches[0].returns.shape == (2, 3)
    assert not torch.equal(batches[0].actions, batches[1].actions)  # the policy was adapted
    clone = build_algorithm(cfg, 1)
    clone.load_state_dict(algo.state_dict())
    again = clone.adaptation_rollouts(tasks(), 3, 2)
    for a, b in zip(batches, again, strict=True):
        assert torch.allclose(a.positions, b.positions)


class Capture(torch.optim.Optimizer):
    """Keeps the gradients it is given and changes nothing."""

    def __init__(self, params):
        super().__init__(params, {"lr": 0.0})

    def step(self, closure=None):
        return None


@pytest.mark.parametrize("name", RL)
def test_reference_step_computes_the_same_gradients(name):
    """The tutorial-style reference (task by task, step by step) and the batched product see
    the same trajectories and give the same gradients."""
    two_steps = {"inner_steps": 2} if "inner_steps" in rl_config(name).hyper else {}
    cfg = rl_config(name, **two_steps)
    algo = build_algorithm(cfg, 1)
    goals = draw_goals(3, torch.Generator().manual_seed(5))
    grads = []
    for step in (algo.train_step, lambda d, o: REFERENCES[name](algo, d, o)):
        opt = Capture(algo.parameters())
        step(NavTasks(goals, torch.Generator().manual_seed(6)), opt)
        grads.append([p.grad.clone() for p in algo.parameters() if p.grad is not None])
    assert len(grads[0]) == len(grads[1]) > 0
    for a, b in zip(*grads, strict=True):
        assert torch.allclose(a, b, rtol=1e-3, atol=1e-5)


def test_sampling_is_seeded_by_the_tasks_generator():
    policy = GaussianPolicy()
    goals = draw_goals(2, torch.Generator().manual_seed(0))
    one = sample(policy, per_task(policy.params(), 2), NavTasks(goals, torch.Generator()), 2)
    two = sample(policy, per_task(policy.params(), 2), NavTasks(goals, torch.Generator()), 2)
    assert torch.equal(one.positions, two.positions)


@pytest.mark.learning
def test_a_trained_maml_policy_gains_return_from_one_inner_step(home):
    """Seeded: after a short meta-training, one policy-gradient step on K trajectories of each
    test goal raises the return, on average over the goals, beyond its 95% CI."""
    from metalearn.engine.run import execute
    from metalearn.store import Store

    cfg = make_config(
        {
            "algorithm": "maml",
            "dataset": "nav2d",
            "n_shot": 10,
            "n_query": 10,
            "meta_batch": 10,
            "episodes": TRAINED_TASKS,
            "eval_episodes": 40,
            "val_every": 0,
            "device": "cpu",
        }
    )
    store = Store(home)
    result = execute(cfg, store, store.create_run(cfg.to_json()))
    before, after = (result["test_return_by_steps"][s] for s in ("0", "1"))
    ci = result["test_return_ci95_by_steps"]
    assert after - before > ci["0"] + ci["1"], result["test_return_by_steps"]
