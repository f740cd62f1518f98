"""Batch norm with the statistics of the batch at hand, written as elementary tensor operations.

Why not `nn.BatchNorm2d(track_running_stats=False)`: under `torch.func.vmap` the batching rule of
the fused kernel's backward (`native_batch_norm_backward`) gives a wrong gradient when that
backward is itself differentiated (pytorch/functorch#534, open). Second-order MAML differentiates
its inner gradient, so its vmapped meta-gradient came out wrong: 2.3% relative on a convolution's
weight in float64, and a non-zero gradient on the bias of a convolution followed by batch norm,
which must be exactly zero (the norm cancels any constant shift). Central finite differences in
float64 agree with the per-task autograd gradient, not with the vmapped one
(`tests/models/test_norm.py`). Built from `var_mean`, subtraction and `rsqrt`, whose batching rules
are right at every order, the same maths gives the same gradient on every path.
"""

from __future__ import annotations

import torch
from torch import nn


def batch_norm(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, eps: float = 1e-5
) -> torch.Tensor:
    """Normalises each channel of x [B, C, ...] by its mean and (biased) variance over the batch
    and the other axes, then scales by weight [C] and shifts by bias [C]; returns x's shape."""
    dims = [0, *range(2, x.dim())]
    var, mean = torch.var_mean(x, dims, correction=0, keepdim=True)
    shape = [1, -1] + [1] * (x.dim() - 2)
    return (x - mean) * torch.rsqrt(var + eps) * weight.view(shape) + bias.view(shape)


class BatchStatsNorm2d(nn.BatchNorm2d):
    """`nn.BatchNorm2d` that always uses the batch's statistics and keeps no running ones
    (MAML's batch norm, at training and at test time), computed by `batch_norm` so that its
    second derivatives are right under `vmap`. Same parameters and state-dict keys as
    `nn.BatchNorm2d(channels, track_running_stats=False)`."""

    def __init__(self, channels: int):
        super().__init__(channels, track_running_stats=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x [B, C, H, W] -> [B, C, H, W]."""
        return batch_norm(x, self.weight, self.bias, self.eps)
