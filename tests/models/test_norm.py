"""Batch norm from elementary ops: the same function as the fused kernel, and the right second
derivative under vmap, where the fused kernel's is wrong (why `models.vmap` exists)."""

import torch
import torch.nn.functional as F
from torch.func import grad, vmap

from metalearn.models.norm import BatchStatsNorm2d, batch_norm
from metalearn.models.vmap import prepared_for_vmap


def test_ops_give_the_fused_kernels_values_and_gradients():
    torch.manual_seed(0)
    x = torch.randn(6, 3, 5, 5, dtype=torch.float64, requires_grad=True)
    w = torch.rand(3, dtype=torch.float64, requires_grad=True)
    b = torch.randn(3, dtype=torch.float64, requires_grad=True)
    ours = batch_norm(x, w, b)
    fused = F.batch_norm(x, None, None, w, b, training=True)
    assert torch.allclose(ours, fused, atol=1e-12)
    probe = torch.randn_like(ours)
    g1 = torch.autograd.grad((ours * probe).sum(), (x, w, b))
    g2 = torch.autograd.grad((fused * probe).sum(), (x, w, b))
    assert all(torch.allclose(a, c, atol=1e-10) for a, c in zip(g1, g2, strict=True))


def second_order(norm_fn, batched: bool) -> torch.Tensor:
    """The meta-gradient, after one inner step, of a convolution's bias in conv -> batch norm ->
    ReLU -> linear (2 tasks, float64): exactly 0 in exact maths, since the norm cancels the
    constant shift the bias adds."""
    torch.manual_seed(1)
    xs = torch.randn(2, 6, 1, 6, 6, dtype=torch.float64)
    xq = torch.randn(2, 6, 1, 6, 6, dtype=torch.float64)
    ys, yq = torch.randint(0, 3, (2, 6)), torch.randint(0, 3, (2, 6))
    params = (
        torch.randn(4, 1, 3, 3, dtype=torch.float64, requires_grad=True),
        torch.randn(4, dtype=torch.float64, requires_grad=True),  # the conv's bias
        (torch.randn(3, 4 * 36, dtype=torch.float64) / 10).requires_grad_(),
        torch.ones(4, dtype=torch.float64, requires_grad=True),  # the norm's scale and shift
        torch.zeros(4, dtype=torch.float64, requires_grad=True),
    )

    def loss(p, x, y):
        h = norm_fn(F.conv2d(x, p[0], p[1], padding=1), p[3], p[4])
        return F.cross_entropy(F.relu(h).flatten(1) @ p[2].T, y)

    def task(a, b, c, d):
        if batched:
            g = grad(loss)(params, a, b)
        else:
            g = torch.autograd.grad(loss(params, a, b), params, create_graph=True)
        fast = tuple(p - 0.4 * gi for p, gi in zip(params, g, strict=True))
        return loss(fast, c, d)

    if batched:
        total = vmap(task)(xs, ys, xq, yq).sum()
    else:
        total = sum(task(xs[i], ys[i], xq[i], yq[i]) for i in range(2))
    return torch.autograd.grad(total, params[1])[0]


def fused(x, w, b):
    return F.batch_norm(x, None, None, w, b, training=True)


def test_under_vmap_only_the_ops_give_the_true_second_derivative():
    assert second_order(fused, batched=False).abs().max() < 1e-12  # per task: right
    assert second_order(batch_norm, batched=True).abs().max() < 1e-12  # ops under vmap: right
    # The fused kernel under vmap (pytorch/functorch#534). If this starts failing, PyTorch has
    # fixed it and `models.vmap`'s batch-norm switch can go.
    assert second_order(fused, batched=True).abs().max() > 1e-6


def test_the_module_switches_to_ops_only_inside_the_block():
    norm = BatchStatsNorm2d(3)
    assert not norm.in_vmap
    with prepared_for_vmap(torch.nn.Sequential(norm)):
        assert norm.in_vmap
    assert not norm.in_vmap
    assert set(norm.state_dict()) == {"weight", "bias"}  # loads old checkpoints' keys
