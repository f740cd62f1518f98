"""Mixed precision for feature networks: bf16 autocast and channels-last images on CUDA.

Convolutions are most of a metric learner's step; on tensor-core GPUs they run several times
faster in bfloat16 with the channels in the innermost dimension. Batch-norm statistics, the
features handed back, distances, losses and the optimiser's state stay fp32.
"""

from __future__ import annotations

import torch
from torch import nn


def uses_bf16(precision: str, x: torch.Tensor) -> bool:
    """ "bf16" always, "auto" on CUDA only (on a CPU bf16 convolutions are slower), else no."""
    return precision == "bf16" or (precision == "auto" and x.is_cuda)


def run_features(net: nn.Module, x: torch.Tensor, precision: str) -> torch.Tensor:
    """`net(x)` in the arithmetic `precision` asks for. x [B, C, H, W] -> features [B, D] fp32."""
    if not uses_bf16(precision, x):
        return net(x)
    if x.is_cuda and x.dim() == 4:
        weight = next((p for p in net.parameters() if p.dim() == 4), None)
        if weight is not None and not weight.is_contiguous(memory_format=torch.channels_last):
            net.to(memory_format=torch.channels_last)  # once: the same Parameter objects
        x = x.contiguous(memory_format=torch.channels_last)
    with torch.autocast(x.device.type, dtype=torch.bfloat16):
        z = net(x)
    return z.float()
