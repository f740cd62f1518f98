"""Small fully connected networks: the regression network of Finn et al. 2017 (1 -> 40 -> 40 ->
1 with ReLU), and the body of a head over a pretrained network's frozen features."""

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


class FeatureBody(nn.Module):
    """The body under a MAML-family head over a pretrained network's frozen features (MiniLM's
    for text, EfficientNet-Lite0's for images): one hidden layer, [B, d_in] -> [B, hidden]."""

    def __init__(self, d_in: int, hidden: int = 256):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(d_in, hidden), nn.ReLU())
        self.out_dim = hidden

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.float())
