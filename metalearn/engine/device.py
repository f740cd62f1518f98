"""Which torch device a run uses."""

from __future__ import annotations

import torch

from metalearn.config import ConfigError


def resolve_device(name: str) -> torch.device:
    """ "auto" -> CUDA, else MPS, else CPU. An unavailable explicit choice is a clear error."""
    cuda = torch.cuda.is_available()
    mps = getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    if name == "auto":
        name = "cuda" if cuda else "mps" if mps else "cpu"
    if name == "cuda" and not cuda:
        raise ConfigError(["device 'cuda' was asked for but no CUDA GPU is available; use cpu"])
    if name == "mps" and not mps:
        raise ConfigError(["device 'mps' was asked for but MPS is not available; use cpu"])
    device = torch.device(name)
    if device.type == "cuda":
        # Episode shapes repeat for a whole run: let cuDNN time its convolution algorithms once
        # per shape and keep the fastest.
        torch.backends.cudnn.benchmark = True
    return device


def describe_device(device: torch.device) -> str:
    """A human label: the GPU model, or "cpu"."""
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    return device.type
