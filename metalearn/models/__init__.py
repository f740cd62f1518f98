"""Backbones by name: each maps images [B, C, H, W] to features [B, D] and knows D."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from metalearn.models.conv4 import Conv4
from metalearn.models.mlp import MLP
from metalearn.models.pretrained import LITE0, EfficientNetLite0
from metalearn.models.resnet12 import ResNet12
from metalearn.models.simple_cnn import SimpleCNN

if TYPE_CHECKING:
    from metalearn.config import RunConfig
    from metalearn.data import DatasetInfo

BACKBONES: dict[str, Callable[..., nn.Module]] = {
    "conv4": Conv4,
    "simple_cnn": SimpleCNN,
    "resnet12": ResNet12,
    LITE0: EfficientNetLite0,  # pretrained: built by `build_backbone` with its own arguments
}


def build_backbone(hp: Any, info: DatasetInfo, cfg: RunConfig) -> nn.Module:
    """The backbone `hp.backbone` names, with `out_dim` set, for the run's data: images
    [B, C, S, S] at the run's side, or text in the form its encoder reads (`models.text`)."""
    if info.modality == "text":
        from metalearn.models.text import build_text_backbone

        return build_text_backbone(hp.backbone, getattr(hp, "finetune_encoder", "none"))
    if hp.backbone == LITE0:
        return EfficientNetLite0(hp.finetune_encoder, hp.input_size, info.mean, info.std)
    net = BACKBONES[hp.backbone](info.channels, cfg.image_size or info.image_size)
    if getattr(hp, "compile", False):
        net.compile()  # in place: the same parameters and state-dict keys, compiled at first call
    return net


def feature_dim(model: nn.Module, channels: int, image_size: int) -> int:
    """Output width of `model` for one image of this shape (a dry run, no gradients)."""
    was_training = model.training
    model.eval()
    with torch.no_grad():
        out = model(torch.zeros(1, channels, image_size, image_size))
    model.train(was_training)
    return out.shape[-1]


__all__ = [
    "BACKBONES",
    "MLP",
    "Conv4",
    "EfficientNetLite0",
    "ResNet12",
    "SimpleCNN",
    "build_backbone",
    "feature_dim",
]
