"""2D navigation: dynamics, clipping, reward, rollouts and the disjoint goal sets."""

import torch

from metalearn.data.nav2d import (
    GOAL_RANGE,
    HELD_OUT_RADIUS,
    HORIZON,
    MAX_ACTION,
    GoalSampler,
    NavTasks,
    draw_goals,
    rollout,
    step,
)


def test_step_moves_by_the_clipped_action_and_rewards_minus_the_distance_after_it():
    position = torch.tensor([[0.0, 0.0], [0.2, -0.1]])
    action = torch.tensor([[0.05, -0.3], [1.0, 0.02]])
    goal = torch.tensor([0.3, 0.4])
    moved, reward = step(position, action, goal)
    assert torch.allclose(moved, torch.tensor([[0.05, -MAX_ACTION], [0.2 + MAX_ACTION, -0.08]]))
    expected = -torch.tensor([(0.25**2 + 0.5**2) ** 0.5, (0.0**2 + 0.48**2) ** 0.5])
    assert torch.allclose(reward, expected)


def test_rollout_shapes_origin_and_dynamics():
    goals = torch.tensor([[0.4, -0.2], [-0.1, 0.3]])
    policy = lambda obs, noise: 0.5 * noise  # noqa: E731  (a policy that ignores the state)
    out = rollout(policy, goals, 3, torch.Generator().manual_seed(0))
    assert out.observations.shape == (2, 3, HORIZON, 2)
    assert out.positions.shape == (2, 3, HORIZON + 1, 2) and out.rewards.shape == (2, 3, HORIZON)
    assert torch.equal(out.positions[:, :, 0], torch.zeros(2, 3, 2))
    steps = out.positions[:, :, 1:] - out.positions[:, :, :-1]
    assert torch.allclose(steps, out.actions.clamp(-MAX_ACTION, MAX_ACTION), atol=1e-6)
    assert steps.abs().max() <= MAX_ACTION + 1e-6 and out.actions.abs().max() > MAX_ACTION
    distance = torch.linalg.vector_norm(out.positions[:, :, 1:] - goals[:, None, None], dim=-1)
    assert torch.allclose(out.rewards, -distance, atol=1e-6)
    assert torch.allclose(out.returns, out.rewards.sum(-1))
    again = rollout(policy, goals, 3, torch.Generator().manual_seed(0))
    assert torch.equal(again.positions, out.positions)  # seeded
    other = rollout(policy, goals, 3, torch.Generator().manual_seed(1))
    assert not torch.equal(other.positions, out.positions)


def test_a_policy_that_heads_for_the_goal_beats_one_that_stands_still():
    goals = draw_goals(8, torch.Generator().manual_seed(3))
    to_goal = lambda obs, noise: (goals[:, None] - obs) * 10  # noqa: E731
    still = lambda obs, noise: torch.zeros_like(obs)  # noqa: E731
    g = torch.Generator().manual_seed(0)
    assert (rollout(to_goal, goals, 1, g).returns > rollout(still, goals, 1, g).returns).all()


def test_the_oracle_observes_the_goal():
    goals = torch.tensor([[0.1, 0.2]])
    out = rollout(lambda o, n: n[..., :2] * 0, goals, 2, torch.Generator(), observe_goal=True)
    assert out.observations.shape[-1] == 4
    assert torch.equal(out.observations[..., 2:], goals.expand(1, 2, HORIZON, 2) + 0)


def test_per_goal_noise_depends_on_that_goal_alone():
    goals = draw_goals(3, torch.Generator().manual_seed(0))
    gens = lambda: [torch.Generator().manual_seed(s) for s in (5, 6, 7)]  # noqa: E731
    policy = lambda obs, noise: noise  # noqa: E731
    three = rollout(policy, goals, 2, gens())
    two = rollout(policy, goals[:2], 2, gens()[:2])
    assert torch.equal(three.actions[:2], two.actions)


def test_goals_are_uniform_in_the_square_and_training_goals_avoid_held_out_ones():
    goals = draw_goals(2000, torch.Generator().manual_seed(0))
    low, high = GOAL_RANGE
    assert goals.min() >= low and goals.max() <= high
    assert abs(goals.mean()) < 0.02 and abs(goals.std() - (high - low) / 12**0.5) < 0.01
    # Hold out exactly the goals the sampler would draw first: it must draw others.
    first = GoalSampler(4, torch.zeros(0, 2), torch.device("cpu")).sample_many(50).goals
    sampler = GoalSampler(4, first, torch.device("cpu"))
    tasks = sampler.sample_many(50)
    assert isinstance(tasks, NavTasks) and len(tasks) == 50
    assert torch.cdist(tasks.goals, first).min() >= HELD_OUT_RADIUS
    assert tasks.generator is sampler.generator  # one generator: a checkpoint saves it
