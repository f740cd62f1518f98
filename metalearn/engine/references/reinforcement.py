"""References of the reinforcement-learning steps, written the tutorial way: one task and one
trajectory after another, one time step at a time, `torch.distributions.Normal` for the
log-likelihood, a reversed loop for the returns. They draw the same action noise as the product
(in the same order, from the same generator), so both see the very same trajectories."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch.distributions import Normal

from metalearn.algorithms.policy_gradient import BASELINE_REG, DISCOUNT
from metalearn.data.nav2d import HORIZON, MAX_ACTION, action_noise


def _mean(params, obs):
    h = obs
    for i in range(3):
        h = F.linear(h, params[f"layers.{i}.weight"], params[f"layers.{i}.bias"])
        h = torch.relu(h) if i < 2 else h
    return h


def _trajectory(params, goal, noise, observe_goal):
    """One rollout, step by step: (observations [H, D], actions [H, 2], rewards [H])."""
    pos, obs_all, acts, rews = torch.zeros(2), [], [], []
    with torch.no_grad():
        for t in range(HORIZON):
            obs = torch.cat([pos, goal]) if observe_goal else pos
            action = _mean(params, obs) + params["log_std"].exp() * noise[t]
            pos = pos + action.clamp(-MAX_ACTION, MAX_ACTION)
            obs_all.append(obs)
            acts.append(action)
            rews.append(-torch.sqrt(((pos - goal) ** 2).sum()))
    return torch.stack(obs_all), torch.stack(acts), torch.stack(rews)


def _returns(rewards):
    out, running = [], 0.0
    for r in reversed(rewards.tolist()):
        running = r + DISCOUNT * running
        out.append(running)
    return torch.tensor(out[::-1])


def _advantages(trajectories):
    """rllab's linear feature baseline, fitted to this task's trajectories; standardised."""
    rows, targets = [], []
    for obs, _, rewards in trajectories:
        for t in range(len(rewards)):
            o, a = obs[t].clamp(-10, 10), t / 100.0
            rows.append(torch.cat([o, o**2, torch.tensor([a, a**2, a**3, 1.0])]))
        targets.append(_returns(rewards))
    x, y = torch.stack(rows).double(), torch.cat(targets).double()
    reg = BASELINE_REG
    while True:  # rllab: a singular system gets a tenfold ridge
        try:
            coef = torch.linalg.solve(x.T @ x + reg * torch.eye(x.shape[1]).double(), x.T @ y)
            break
        except torch.linalg.LinAlgError:
            reg *= 10
    adv = (y - x @ coef).float()
    return (adv - adv.mean()) / (adv.std() + 1e-8)


def _surrogate(params, trajectories):
    adv = _advantages(trajectories)
    obs = torch.cat([t[0] for t in trajectories])
    actions = torch.cat([t[1] for t in trajectories])
    dist = Normal(_mean(params, obs), params["log_std"].exp())
    return -(dist.log_prob(actions).sum(-1) * adv).mean()


def _rollouts(params, goal, noise, observe_goal=False):
    return [_trajectory(params, goal, noise[n], observe_goal) for n in range(len(noise))]


def _noise(tasks, n_traj):
    return action_noise(tasks.generator, len(tasks), n_traj, HORIZON)


def maml_rl_step(algo, tasks, optimizer) -> None:
    """MAML's meta-update on RL tasks, task by task (second order unless first-order)."""
    _, n_shot, n_query = algo.cfg.train_shape
    params = dict(algo.learner.named_parameters())
    adapted = algo.adapted_names()
    inner = [_noise(tasks, n_shot) for _ in range(algo.hp.inner_steps)]  # drawn as the product
    outer = _noise(tasks, n_query)
    optimizer.zero_grad(set_to_none=True)
    total = 0.0
    for i, goal in enumerate(tasks.goals):
        fast = dict(params)
        for k in range(algo.hp.inner_steps):
            loss = _surrogate(fast, _rollouts(fast, goal, inner[k][i]))
            grads = torch.autograd.grad(
                loss, [fast[n] for n in adapted], create_graph=not algo.hp.first_order
            )
            for n, g in zip(adapted, grads, strict=True):
                fast[n] = fast[n] - algo.step_size(n, k) * g
        total = total + _surrogate(fast, _rollouts(fast, goal, outer[i])) / len(tasks)
    total.backward()
    optimizer.step()


def policy_step(algo, tasks, optimizer) -> None:
    """Joint training of one policy on all tasks (the pre-trained baseline, the oracle)."""
    params = dict(algo.policy.named_parameters())
    noise = _noise(tasks, algo.cfg.train_shape[1])
    optimizer.zero_grad(set_to_none=True)
    total = 0.0
    for i, goal in enumerate(tasks.goals):
        trajectories = _rollouts(params, goal, noise[i], algo.observe_goal)
        total = total + _surrogate(params, trajectories) / len(tasks)
    total.backward()
    optimizer.step()


def reptile_rl_step(algo, tasks, optimizer) -> None:
    """Reptile on RL tasks, task by task: policy-gradient steps from phi, then
    phi += epsilon * mean(W_i - phi)."""
    phi = dict(algo.learner.named_parameters())
    noise = [_noise(tasks, algo.cfg.train_shape[1]) for _ in range(algo.hp.inner_steps)]
    delta = {n: torch.zeros_like(p) for n, p in phi.items()}
    for i, goal in enumerate(tasks.goals):
        w = {n: p.detach().clone().requires_grad_() for n, p in phi.items()}
        for k in range(algo.hp.inner_steps):
            loss = _surrogate(w, _rollouts(w, goal, noise[k][i]))
            grads = torch.autograd.grad(loss, list(w.values()))
            w = {
                n: (p - algo.hp.inner_lr * g).detach().requires_grad_()
                for (n, p), g in zip(w.items(), grads, strict=True)
            }
        for n in delta:
            delta[n] += (w[n].detach() - phi[n].detach()) / len(tasks)
    for group in optimizer.param_groups:
        group["lr"] = algo.epsilon()
    optimizer.zero_grad(set_to_none=True)
    for n, p in phi.items():
        p.grad = -delta[n]
    optimizer.step()
    algo.updates += 1
