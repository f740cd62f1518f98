"""The policy-gradient machinery every reinforcement-learning learner shares: discounted
returns-to-go, rllab's linear feature baseline, the REINFORCE surrogate loss, one vanilla
policy-gradient step on T tasks at once, and adaptation on test tasks.

The estimator is the one MAML's inner loop uses (Williams 1992's REINFORCE with a baseline;
Finn et al. 2017, section 3.2): grad J = E[sum_t grad log pi(a_t | s_t) * A_t], with
A_t = G_t - b(s_t), G_t the discounted return-to-go, b the linear baseline fitted to the batch,
advantages standardised per task.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from metalearn.data.nav2d import NavTasks, Trajectories, rollout
from metalearn.models.policy import GaussianPolicy, Params

DISCOUNT = 0.99  # as in MAML's RL experiments
BASELINE_REG = 1e-5  # rllab's ridge coefficient for the linear baseline


def returns_to_go(rewards: torch.Tensor, discount: float = DISCOUNT) -> torch.Tensor:
    """G_t = sum_{t' >= t} discount^(t' - t) r_t'. rewards [..., H] -> [..., H]."""
    h = rewards.shape[-1]
    t = torch.arange(h, device=rewards.device)
    powers = (t[:, None] - t[None, :]).clamp(min=0).to(rewards.dtype)  # [t', t]
    weights = torch.where(t[:, None] >= t[None, :], discount**powers, 0.0)
    return rewards @ weights


def baseline_features(observations: torch.Tensor) -> torch.Tensor:
    """rllab's LinearFeatureBaseline features: obs, obs^2, t/100, (t/100)^2, (t/100)^3, 1.
    observations [T, N, H, D] -> [T, N, H, 2D + 4]."""
    obs = observations.clamp(-10, 10)
    h = obs.shape[-2]
    al = (torch.arange(h, device=obs.device, dtype=obs.dtype) / 100.0).view(1, 1, h, 1)
    al = al.expand(*obs.shape[:-1], 1)
    return torch.cat([obs, obs**2, al, al**2, al**3, torch.ones_like(al)], -1)


def ridge(xtx: torch.Tensor, xty: torch.Tensor) -> torch.Tensor:
    """Solves (X'X + reg I) w = X'y in float64, raising reg tenfold (up to 5 times) where the
    system is singular, as rllab does: a policy that has converged sends every trajectory
    through the same states, and the features become collinear."""
    eye = torch.eye(xtx.shape[-1], device=xtx.device, dtype=xtx.dtype)
    reg = BASELINE_REG
    for _ in range(5):
        coef, info = torch.linalg.solve_ex(xtx + reg * eye, xty)
        if not info.any() and torch.isfinite(coef).all():
            return coef
        reg *= 10
    return torch.zeros_like(xty)  # no usable fit: the baseline is 0, the advantages the returns


def advantages(batch: Trajectories, discount: float = DISCOUNT) -> torch.Tensor:
    """Standardised advantages [T, N, H]: returns-to-go minus a linear baseline fitted by ridge
    regression to each task's own trajectories."""
    g = returns_to_go(batch.rewards, discount)  # [T, N, H]
    x = baseline_features(batch.observations)
    n_tasks, f = x.shape[0], x.shape[-1]
    x, y = x.reshape(n_tasks, -1, f).double(), g.reshape(n_tasks, -1, 1).double()
    coef = ridge(x.transpose(1, 2) @ x, x.transpose(1, 2) @ y)
    adv = (y - x @ coef).reshape(g.shape).to(g.dtype)
    mean = adv.mean((1, 2), keepdim=True)
    std = adv.std((1, 2), keepdim=True)
    return (adv - mean) / (std + 1e-8)


def surrogate(policy: GaussianPolicy, params: Params, batch: Trajectories, adv=None):
    """Per-task REINFORCE surrogate loss [T]: -mean_{n,t} log pi(a | s) * A. Its gradient is
    minus the policy-gradient estimate. `adv` [T, N, H] (default: `advantages(batch)`)."""
    adv = advantages(batch) if adv is None else adv
    n_tasks = batch.actions.shape[0]
    obs = batch.observations.reshape(n_tasks, -1, batch.observations.shape[-1])
    actions = batch.actions.reshape(n_tasks, -1, batch.actions.shape[-1])
    logp = policy.log_prob(params, obs, actions)  # [T, N * H]
    return -(logp * adv.reshape(n_tasks, -1)).mean(1)


def per_task(params: Params, n_tasks: int) -> Params:
    """The same parameters for each of T tasks: [T, ...] views (gradients flow back)."""
    return {n: p.expand(n_tasks, *p.shape) for n, p in params.items()}


def pg_step(
    policy: GaussianPolicy,
    fast: Params,
    batch: Trajectories,
    step_size: Callable[[str], torch.Tensor | float],
    names: list[str] | None = None,
    create_graph: bool = False,
) -> Params:
    """One vanilla policy-gradient step per task, all tasks at once. fast: [T, ...] each; the
    summed loss gives every task's parameters the gradient of its own surrogate."""
    names = list(fast) if names is None else names
    loss = surrogate(policy, fast, batch).sum()
    grads = torch.autograd.grad(loss, [fast[n] for n in names], create_graph=create_graph)
    return {**fast, **{n: fast[n] - step_size(n) * g for n, g in zip(names, grads, strict=True)}}


def sample(
    policy: GaussianPolicy, params: Params, tasks: NavTasks, n_traj: int, observe_goal=False
) -> Trajectories:
    """`n_traj` trajectories per task under `params` (no gradients)."""
    detached = {n: p.detach() for n, p in params.items()}
    return rollout(policy.act(detached), tasks.goals, n_traj, tasks.generator, observe_goal)


class PolicyLearner:
    """What an algorithm that runs reinforcement-learning tasks provides to the `rollouts`
    run kind: adaptation on test tasks. The class mixing it in sets `policy` and may override
    the step size and the adapted parameters."""

    policy: GaussianPolicy
    observe_goal: bool = False

    def policy_step_size(self, name: str, step: int) -> torch.Tensor | float:
        raise NotImplementedError

    def adapted_policy_names(self) -> list[str]:
        return list(self.policy.params())

    def adaptation_rollouts(self, tasks: NavTasks, n_traj: int, steps: int) -> list[Trajectories]:
        """Rollouts before and after each of `steps` policy-gradient steps on each task (the
        trajectories after step k are also the data of step k + 1): a list of steps + 1."""
        fast = {
            n: p.detach().expand(len(tasks), *p.shape).clone()
            for n, p in self.policy.params().items()
        }
        out = []
        for k in range(steps + 1):
            batch = sample(self.policy, fast, tasks, n_traj, self.observe_goal)
            out.append(batch)
            if k < steps:
                with torch.enable_grad():
                    fast = {n: p.requires_grad_() for n, p in fast.items()}
                    fast = pg_step(
                        self.policy,
                        fast,
                        batch,
                        lambda n, k=k: self.policy_step_size(n, k),
                        self.adapted_policy_names(),
                    )
                fast = {n: p.detach() for n, p in fast.items()}
        return out

    def meta_policy_gradient(
        self, tasks: NavTasks, n_traj: tuple[int, int], steps: int, second_order: bool
    ) -> tuple[torch.Tensor, Trajectories, Trajectories]:
        """MAML's meta-objective on a batch of T tasks, all at once (parameters [T, ...]):
        `steps` policy-gradient steps from the policy's weights on `n_traj[0]` trajectories
        per task, then the surrogate loss of `n_traj[1]` new trajectories under the adapted
        weights, differentiable through the steps (`second_order`). Like MAML's own code, it
        ignores how the pre-update trajectories' distribution depends on the weights.

        Returns:
            (mean surrogate loss, the trajectories before adaptation, those after).
        """
        fast = per_task(self.policy.params(), len(tasks))
        before = None
        for k in range(steps):
            batch = sample(self.policy, fast, tasks, n_traj[0], self.observe_goal)
            before = batch if before is None else before
            size = lambda name, k=k: self.policy_step_size(name, k)  # noqa: E731
            names = self.adapted_policy_names()
            fast = pg_step(self.policy, fast, batch, size, names, second_order)
        after = sample(self.policy, fast, tasks, n_traj[1], self.observe_goal)
        first = before if before is not None else after
        return surrogate(self.policy, fast, after).mean(), first, after
