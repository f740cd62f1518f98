"""The standard augmentation of few-shot training on photos (Chen et al. 2019; Tian et al. 2020):
random resized crop, horizontal flip and colour jitter, each image drawn on its own.

torchvision's transforms draw one set of parameters per call, so a batch would share one crop;
here every image gets its own, and the whole batch is one `grid_sample` (fast on a GPU, no
per-image Python). Parameters follow torchvision's defaults: `RandomResizedCrop(scale=(0.08, 1),
ratio=(3/4, 4/3))`, `RandomHorizontalFlip(0.5)`, `ColorJitter(0.4, 0.4, 0.4)`.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

SCALE = (0.08, 1.0)  # the crop's share of the image's area
RATIO = (3 / 4, 4 / 3)  # the crop's width / height
JITTER = 0.4  # brightness, contrast and saturation factors are drawn from [0.6, 1.4]
GRAY = torch.tensor([0.2989, 0.587, 0.114])  # luma weights of torchvision's rgb_to_grayscale


class Augment:
    """Draws and applies the augmentation.

    Args:
        generator: the CPU generator it draws from (a sampler shares its own, so a checkpoint
            that saves the sampler's generator resumes the same crops).
    """

    def __init__(self, generator: torch.Generator):
        self.generator = generator

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """x [..., C, H, W] in [0, 1] (any device) -> augmented, same shape, in [0, 1]."""
        lead, (c, h, w) = x.shape[:-3], x.shape[-3:]
        flat = x.reshape(-1, c, h, w)
        n, g = len(flat), self.generator
        u = torch.rand(n, 7, generator=g)  # drawn on the CPU: the same on every device
        area = SCALE[0] + (SCALE[1] - SCALE[0]) * u[:, 0]
        log_ratio = math.log(RATIO[0]) + (math.log(RATIO[1]) - math.log(RATIO[0])) * u[:, 1]
        ratio = log_ratio.exp()
        width = (area * ratio).sqrt().clamp(max=1.0)  # fractions of the side
        height = (area / ratio).sqrt().clamp(max=1.0)
        cx = (2 * u[:, 2] - 1) * (1 - width)  # the crop stays inside the image
        cy = (2 * u[:, 3] - 1) * (1 - height)
        flip = torch.where(u[:, 4] < 0.5, -1.0, 1.0)
        theta = torch.zeros(n, 2, 3)
        theta[:, 0, 0], theta[:, 0, 2] = width * flip, cx
        theta[:, 1, 1], theta[:, 1, 2] = height, cy
        theta = theta.to(flat.device, flat.dtype)
        grid = F.affine_grid(theta, list(flat.shape), align_corners=False)
        out = F.grid_sample(flat, grid, "bilinear", "border", align_corners=False)
        factors = (1 - JITTER + 2 * JITTER * torch.rand(n, 3, generator=g)).to(out)
        out = jitter(out, factors[:, 0], factors[:, 1], factors[:, 2])
        return out.reshape(*lead, c, h, w)


def jitter(
    x: torch.Tensor, brightness: torch.Tensor, contrast: torch.Tensor, saturation: torch.Tensor
) -> torch.Tensor:
    """Colour jitter of images x [N, C, H, W] in [0, 1] with per-image factors [N] (torchvision's
    formulas: blend with black, with the mean grey level, with the grey image)."""
    k = lambda f: f.view(-1, 1, 1, 1)  # noqa: E731
    x = (x * k(brightness)).clamp(0, 1)
    if x.shape[1] == 3:
        gray = (x * GRAY.to(x).view(1, 3, 1, 1)).sum(1, keepdim=True)
        x = (k(contrast) * x + (1 - k(contrast)) * gray.mean((2, 3), keepdim=True)).clamp(0, 1)
        gray = (x * GRAY.to(x).view(1, 3, 1, 1)).sum(1, keepdim=True)
        x = (k(saturation) * x + (1 - k(saturation)) * gray).clamp(0, 1)
    else:
        x = (k(contrast) * x + (1 - k(contrast)) * x.mean((2, 3), keepdim=True)).clamp(0, 1)
    return x
