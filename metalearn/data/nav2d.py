"""2D navigation, the simplest reinforcement-learning benchmark of Finn et al. 2017 (MAML,
section 5.3): a point agent starts at the origin and must reach a goal it cannot see.

State: the position (x, y). Action: a velocity, clipped to [-0.1, 0.1] per axis. Reward: minus
the distance to the goal after the step. Horizon: 100 steps. A task is a goal, uniform in
[-0.5, 0.5]^2. Everything is vectorised over tasks and trajectories; no gym.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

HORIZON = 100
MAX_ACTION = 0.1
GOAL_RANGE = (-0.5, 0.5)
HELD_OUT_RADIUS = 0.01  # training goals this close to a test or validation goal are redrawn


def draw_goals(n: int, generator: torch.Generator) -> torch.Tensor:
    """n goals [n, 2], uniform in the goal square."""
    low, high = GOAL_RANGE
    return low + torch.rand(n, 2, generator=generator) * (high - low)


def step(position: torch.Tensor, action: torch.Tensor, goal: torch.Tensor):
    """One step of the dynamics: returns (next position, reward).

    Args:
        position, action: [..., 2]; the action is clipped to [-MAX_ACTION, MAX_ACTION] per axis.
        goal: [..., 2], broadcastable to the position.
    """
    moved = position + action.clamp(-MAX_ACTION, MAX_ACTION)
    return moved, -torch.linalg.vector_norm(moved - goal, dim=-1)


@dataclass
class Trajectories:
    """A batch of rollouts: T tasks x N trajectories x H steps.

    Attributes:
        observations: [T, N, H, D] what the policy saw (the position; the goal too for an
            oracle).
        actions: [T, N, H, 2] the sampled actions, before clipping (their log-probability is
            what the policy gradient needs).
        rewards: [T, N, H].
        positions: [T, N, H + 1, 2], the origin first.
    """

    observations: torch.Tensor
    actions: torch.Tensor
    rewards: torch.Tensor
    positions: torch.Tensor

    @property
    def returns(self) -> torch.Tensor:
        """Undiscounted return of each trajectory, [T, N]."""
        return self.rewards.sum(-1)

    @property
    def samples(self) -> int:
        """Environment steps in the batch, per task."""
        return self.rewards.shape[1] * self.rewards.shape[2]


def action_noise(
    generator: torch.Generator | list[torch.Generator], n_tasks: int, n_traj: int, horizon: int
) -> torch.Tensor:
    """Standard normal noise [T, N, H, 2] on the CPU: from one generator in one call, or from
    one generator per task (test goals: a goal's noise then depends on that goal alone)."""
    if isinstance(generator, torch.Generator):
        return torch.randn(n_tasks, n_traj, horizon, 2, generator=generator)
    return torch.stack([torch.randn(n_traj, horizon, 2, generator=g) for g in generator])


def rollout(
    act: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    goals: torch.Tensor,
    n_traj: int,
    generator: torch.Generator | list[torch.Generator],
    observe_goal: bool = False,
    horizon: int = HORIZON,
) -> Trajectories:
    """Runs `n_traj` trajectories on each goal, all at once, without gradients.

    Args:
        act: (observations [T, N, D], noise [T, N, 2]) -> actions [T, N, 2].
        goals: [T, 2].
        generator: the noise's CPU generator, or one per task (see `action_noise`).
        observe_goal: the observation holds the goal as well (the paper's oracle).
    """
    n_tasks, device = goals.shape[0], goals.device
    noise = action_noise(generator, n_tasks, n_traj, horizon).to(device)
    goal = goals[:, None, :].expand(n_tasks, n_traj, 2)
    position = goals.new_zeros(n_tasks, n_traj, 2)
    observations, actions, rewards, positions = [], [], [], [position]
    with torch.no_grad():
        for t in range(horizon):
            obs = torch.cat([position, goal], -1) if observe_goal else position
            action = act(obs, noise[:, :, t])
            position, reward = step(position, action, goal)
            observations.append(obs)
            actions.append(action)
            rewards.append(reward)
            positions.append(position)
    return Trajectories(
        torch.stack(observations, 2),
        torch.stack(actions, 2),
        torch.stack(rewards, 2),
        torch.stack(positions, 2),
    )


class GoalSampler:
    """Seeded training goals, never within `HELD_OUT_RADIUS` of a held-out (test or
    validation) goal, so the training, validation and test goal sets are disjoint.

    `sample_many(n)` returns a `NavTasks` of n goals; its generator also draws the training
    rollouts' action noise (one generator: a checkpoint saves it, a resumed run continues).
    """

    def __init__(self, seed: int, held_out: torch.Tensor, device: torch.device):
        self.generator = torch.Generator().manual_seed(seed)
        self.held_out, self.device = held_out.cpu(), device

    def sample_many(self, n: int) -> NavTasks:
        goals = draw_goals(n, self.generator)
        if len(self.held_out):
            while True:
                near = torch.cdist(goals, self.held_out).min(1).values < HELD_OUT_RADIUS
                if not near.any():
                    break
                goals[near] = draw_goals(int(near.sum()), self.generator)
        return NavTasks(goals.to(self.device), self.generator)


@dataclass
class NavTasks:
    """Tasks: goals [T, 2], and the generator of their rollouts' noise (one, or one per goal)."""

    goals: torch.Tensor
    generator: torch.Generator | list[torch.Generator]

    def __len__(self) -> int:
        return self.goals.shape[0]
