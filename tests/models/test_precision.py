import pytest
import torch

from metalearn.models import Conv4
from metalearn.models.precision import run_features, uses_bf16


def test_auto_is_fp32_on_cpu_and_bf16_only_where_asked():
    x = torch.zeros(1)
    assert not uses_bf16("auto", x) and not uses_bf16("fp32", x) and uses_bf16("bf16", x)


def test_auto_on_cpu_is_the_plain_forward():
    torch.manual_seed(0)
    net, x = Conv4(1, 28), torch.rand(6, 1, 28, 28)
    assert torch.equal(run_features(net, x, "auto"), net(x))


def test_bf16_features_are_fp32_close_to_fp32_and_carry_gradients():
    torch.manual_seed(0)
    net, x = Conv4(1, 28), torch.rand(6, 1, 28, 28)
    ref = net(x)
    z = run_features(net, x, "bf16")
    assert z.dtype == torch.float32 and z.shape == ref.shape
    assert not torch.equal(z, ref)  # it did run in bf16
    assert torch.allclose(z, ref, atol=0.1, rtol=0.05)
    z.sum().backward()
    assert all(p.grad is not None and p.grad.dtype == torch.float32 for p in net.parameters())


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (run on the GPU check)")
def test_cuda_bf16_uses_channels_last_weights():
    net, x = Conv4(1, 28).cuda(), torch.rand(6, 1, 28, 28, device="cuda")
    run_features(net, x, "auto")
    weight = net.encoder[0][0].weight
    assert weight.is_contiguous(memory_format=torch.channels_last)
