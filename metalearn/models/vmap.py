"""Modules that compute differently inside `torch.func.vmap`.

Some of the product's layers choose their kernels for speed where that is right, and must choose
otherwise inside a vmapped computation: the batch norms of the MAML family (the fused kernel's
double backward is wrong under vmap, see `models.norm`). Each such module has an `in_vmap`
attribute, False by default; `prepared_for_vmap` sets it for the span of a vmapped computation.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from torch import nn


@contextmanager
def prepared_for_vmap(module: nn.Module) -> Iterator[None]:
    """Within the block, every submodule of `module` with an `in_vmap` attribute has it set.
    The autograd graph records the operations used, so a backward pass after the block (outside
    vmap) differentiates what was computed."""
    marked = [m for m in module.modules() if hasattr(m, "in_vmap")]
    for m in marked:
        m.in_vmap = True
    try:
        yield
    finally:
        for m in marked:
            m.in_vmap = False
