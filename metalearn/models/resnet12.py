"""ResNet-12 (Lee et al. 2019, MetaOptNet; Oreshkin et al. 2018): four residual blocks of three
3x3 convs (64, 160, 320, 640 filters), each block ending in 2x2 max-pool; global average pooling
gives a 640-d feature. Meant for CIFAR-sized and miniImageNet images, and for GPUs."""

from __future__ import annotations

import torch
from torch import nn


class Block(nn.Module):
    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        layers = []
        for i in range(3):
            layers += [
                nn.Conv2d(c_in if i == 0 else c_out, c_out, 3, padding=1, bias=False),
                nn.BatchNorm2d(c_out),
            ]
            if i < 2:
                layers.append(nn.LeakyReLU(0.1))
        self.body = nn.Sequential(*layers)
        self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, bias=False), nn.BatchNorm2d(c_out))
        self.out = nn.Sequential(nn.LeakyReLU(0.1), nn.MaxPool2d(2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.body(x) + self.shortcut(x))


class ResNet12(nn.Module):
    def __init__(self, channels: int = 3, image_size: int = 32, widths=(64, 160, 320, 640)):
        super().__init__()
        chans = (channels, *widths)
        self.blocks = nn.Sequential(*(Block(chans[i], chans[i + 1]) for i in range(4)))
        self.out_dim = widths[-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x [B, C, H, W] -> features [B, 640]."""
        return self.blocks(x).mean(dim=(-2, -1))
