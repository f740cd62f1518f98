"""Batch norm with the statistics of the batch at hand, written as elementary tensor operations.

Why not `nn.BatchNorm2d(track_running_stats=False)`: under `torch.func.vmap` the batching rule of
the fused kernel's backward (`native_batch_norm_backward`) gives a wrong gradient when that
backward is itself differentiated (pytorch/functorch#534, open). Second-order MAML differentiates
its inner gradient, so its vmapped meta-gradient came out wrong: 2.3% relative on a convolution's
weight in float64, and a non-zero gradient on the bias of a convolution followed by batch norm,
which must be exactly zero (the norm cancels any constant shift). Central finite differences in
float64 agree with the per-task autograd gradient, not with the vmapped one
(`tests/algorithms/test_maml.py`, `tests/models/test_norm.py`). Built from `var_mean`,
subtraction and `rsqrt`, whose batching rules are right at every order, the same maths gives the
right gradient under `vmap` too. It costs: on a CPU a second-order MAML step with it takes 1.8x
as long as with the fused kernel, so the fused kernel stays wherever it is right (no `vmap`),
and `models.vmap.prepared_for_vmap` switches a module to the elementary ops for the span of a
vmapped computation.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
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


def batch_stats_norm(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, by_ops: bool, eps: float = 1e-5
) -> torch.Tensor:
    """Batch norm with the batch's statistics: the fused kernel, or (`by_ops`) `batch_norm`."""
    if by_ops:
        return batch_norm(x, weight, bias, eps)
    return F.batch_norm(x, None, None, weight, bias, training=True, eps=eps)


class BatchStatsNorm2d(nn.BatchNorm2d):
    """`nn.BatchNorm2d` that always uses the batch's statistics and keeps no running ones
    (MAML's batch norm, at training and at test time); from elementary ops while `in_vmap` is
    set (see `models.vmap.prepared_for_vmap`). Same parameters and state-dict keys as
    `nn.BatchNorm2d(channels, track_running_stats=False)`."""

    in_vmap = False

    def __init__(self, channels: int):
        super().__init__(channels, track_running_stats=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x [B, C, H, W] -> [B, C, H, W]."""
        return batch_stats_norm(x, self.weight, self.bias, self.in_vmap, self.eps)
