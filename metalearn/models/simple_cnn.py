"""The small CNN of the article's CIFAR-10 example (LeNet-style): conv 6@5x5, pool,
conv 16@5x5, pool, then 120 and 84 hidden units. As a backbone it ends at the 84-d layer; the
10-way output layer is the head the transfer pipeline trains and fine-tunes."""

from __future__ import annotations

import torch
from torch import nn


class SimpleCNN(nn.Module):
    def __init__(self, channels: int = 3, image_size: int = 32):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(channels, 6, 5),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        side = ((image_size - 4) // 2 - 4) // 2  # 32 -> 5, as in the article (16 * 5 * 5)
        if side < 1:
            raise ValueError(f"simple_cnn needs images of at least 16x16, got {image_size}")
        self.fc = nn.Sequential(
            nn.Linear(16 * side * side, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU()
        )
        self.out_dim = 84

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x [B, C, H, W] -> features [B, 84]."""
        return self.fc(self.features(x).flatten(1))
