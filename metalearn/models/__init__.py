"""Backbones by name: each maps images [B, C, H, W] to features [B, D] and knows D."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from metalearn.models.conv4 import Conv4
from metalearn.models.mlp import MLP
from metalearn.models.resnet12 import ResNet12
from metalearn.models.simple_cnn import SimpleCNN

BACKBONES: dict[str, Callable[..., nn.Module]] = {
    "conv4": Conv4,
    "simple_cnn": SimpleCNN,
    "resnet12": ResNet12,
}


def build_backbone(name: str, channels: int, image_size: int) -> nn.Module:
    """A backbone with `out_dim` set, for images [B, channels, image_size, image_size]."""
    return BACKBONES[name](channels, image_size)


def feature_dim(model: nn.Module, channels: int, image_size: int) -> int:
    """Output width of `model` for one image of this shape (a dry run, no gradients)."""
    was_training = model.training
    model.eval()
    with torch.no_grad():
        out = model(torch.zeros(1, channels, image_size, image_size))
    model.train(was_training)
    return out.shape[-1]


__all__ = ["BACKBONES", "MLP", "Conv4", "ResNet12", "SimpleCNN", "build_backbone", "feature_dim"]
