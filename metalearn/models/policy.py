"""The Gaussian MLP policy of Finn et al. 2017's locomotion and navigation experiments: two
hidden layers of 100 ReLU units give the mean action; a learned, state-independent log standard
deviation per action dimension."""

from __future__ import annotations

import math

import torch
from torch import nn

Params = dict[str, torch.Tensor]


class GaussianPolicy(nn.Module):
    """pi(a | s) = N(mu_theta(s), diag(exp(log_std))^2).

    Its maths is written for parameters with or without a leading task dimension, so one call
    evaluates T differently adapted policies at once (`mean(params, obs)`, params from
    `named_parameters()`, each optionally [T, ...]).
    """

    def __init__(self, d_obs: int = 2, d_action: int = 2, hidden: int = 100):
        super().__init__()
        self.layers = nn.ModuleList(
            [nn.Linear(d_obs, hidden), nn.Linear(hidden, hidden), nn.Linear(hidden, d_action)]
        )
        self.log_std = nn.Parameter(torch.zeros(d_action))  # rllab's initial std of 1

    def params(self) -> Params:
        return dict(self.named_parameters())

    def mean(self, params: Params, obs: torch.Tensor) -> torch.Tensor:
        """Mean action. obs [T, M, D]; weights [out, in] or [T, out, in] -> [T, M, d_action]."""
        h = obs
        for i in range(len(self.layers)):
            w, b = params[f"layers.{i}.weight"], params[f"layers.{i}.bias"]
            h = h @ w.transpose(-1, -2) + b.unsqueeze(-2)
            if i < len(self.layers) - 1:
                h = torch.relu(h)
        return h

    def log_prob(self, params: Params, obs: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        """log pi(actions | obs): obs [T, M, D], actions [T, M, A] -> [T, M]."""
        log_std = params["log_std"]
        log_std = log_std.unsqueeze(-2) if log_std.dim() == 2 else log_std  # [T, 1, A] or [A]
        z = (actions - self.mean(params, obs)) / log_std.exp()
        d = actions.shape[-1]
        return -0.5 * (z**2).sum(-1) - log_std.sum(-1) - 0.5 * d * math.log(2 * math.pi)

    def act(self, params: Params):
        """(obs [T, N, D], noise [T, N, A]) -> sampled actions, for `nav2d.rollout`."""
        log_std = params["log_std"]
        std = (log_std.unsqueeze(-2) if log_std.dim() == 2 else log_std).exp()
        return lambda obs, noise: self.mean(params, obs) + std * noise
