from types import SimpleNamespace

import pytest
import torch

from metalearn.config import RunConfig
from metalearn.data import DatasetInfo
from metalearn.models import BACKBONES, MLP, build_backbone, feature_dim
from metalearn.settings import BACKBONES as DECLARED


def image_backbone(name: str, channels: int, size: int) -> torch.nn.Module:
    info = DatasetInfo("x", "classification", channels, size)
    return build_backbone(SimpleNamespace(backbone=name), info, RunConfig())


@pytest.mark.parametrize(
    "name,channels,size,dim",
    [
        ("conv4", 1, 28, 64),
        ("conv4", 3, 84, 1600),
        ("simple_cnn", 3, 32, 84),
        ("resnet12", 3, 32, 640),
    ],
)
def test_feature_width(name, channels, size, dim):
    model = image_backbone(name, channels, size)
    assert model.out_dim == dim == feature_dim(model, channels, size)
    assert model(torch.zeros(2, channels, size, size)).shape == (2, dim)


def test_registry_and_mlp():
    assert set(BACKBONES) == set(DECLARED)
    assert set(DECLARED) == {"conv4", "simple_cnn", "resnet12", "efficientnet_lite0"}
    assert MLP()(torch.zeros(5, 1)).shape == (5, 1)
    with pytest.raises(ValueError, match="at least 16x16"):
        image_backbone("simple_cnn", 1, 8)
