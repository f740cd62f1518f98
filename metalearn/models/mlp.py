"""The regression network of Finn et al. 2017: 1 -> 40 -> 40 -> 1 with ReLU."""

from __future__ import annotations

import torch
from torch import nn


class MLP(nn.Module):
    def __init__(self, d_in: int = 1, hidden: int = 40, d_out: int = 1):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(d_in, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, d_out),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x [B, d_in] -> [B, d_out]."""
        return self.net(x)
