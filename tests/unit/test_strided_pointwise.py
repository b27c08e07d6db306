"""`pointwise_conv`: the subsampled stride-1 form of a narrow 1x1 stride-2 conv gives what the
strided conv gives, forward and backward. The reference runs strided in float64 and NCHW,
which oneDNN does not take, so it never reaches the AVX2 kernel this form avoids
(test_onednn_avx2_paths.py runs that one)."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from search_space import build_network, build_supernet, narrow_strided_convs, parse_genotype, set_narrow_subsampling
from search_space.layers import FactorizedReduce
from search_space.strided_pointwise import pointwise_conv, subsamples_on_cpu


def _output_and_grads(conv: nn.Conv2d, x: torch.Tensor, run) -> list[torch.Tensor]:
    x = x.detach().requires_grad_(True)
    out = run(conv, x)
    grad_out = torch.randn(out.shape, generator=torch.Generator().manual_seed(1))
    params = [p for p in (conv.weight, conv.bias) if p is not None]
    return [out.detach(), *torch.autograd.grad(out, [x, *params], grad_out)]


def _reference(conv: nn.Conv2d, x: torch.Tensor) -> torch.Tensor:
    bias = None if conv.bias is None else conv.bias.double()
    return F.conv2d(x.double().contiguous(), conv.weight.double(), bias, stride=conv.stride).float()


@pytest.mark.parametrize("c_in,size,bias", [(2, 8, False), (6, 7, True), (7, 5, False), (4, 1, True)])
def test_a_narrow_strided_conv_on_every_other_pixel_gives_the_strided_result(c_in, size, bias):
    torch.manual_seed(0)
    conv = nn.Conv2d(c_in, 3, 1, stride=2, bias=bias)
    assert subsamples_on_cpu(conv)
    x = torch.randn(2, c_in, size, size).contiguous(memory_format=torch.channels_last)
    got = _output_and_grads(conv, x, pointwise_conv)
    expected = _output_and_grads(conv, x, _reference)
    assert got[0].shape == (2, 3, (size + 1) // 2, (size + 1) // 2)
    for a, b in zip(got, expected):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("conv,subsamples", [
    (nn.Conv2d(7, 4, 1, stride=2), True),
    (nn.Conv2d(8, 4, 1, stride=2), False),  # oneDNN's 8-channel block: the kernel is sound
    (nn.Conv2d(4, 4, 1, stride=1), False),  # no strided copy at stride 1
    (nn.Conv2d(4, 4, 3, stride=2, padding=1), False),  # not a 1x1 conv
    (nn.Conv2d(4, 4, 1, stride=2, padding=1), False),  # padded: slicing would not match
])
def test_only_narrow_unpadded_1x1_strided_convs_are_subsampled(conv, subsamples):
    assert subsamples_on_cpu(conv) is subsamples


def test_factorized_reduce_keeps_its_output_for_narrow_inputs():
    """The block with 4 input channels (a C=2 supernet's reduction edge) against its own
    convs run strided in float64 and NCHW, odd size included."""
    torch.manual_seed(0)
    block = FactorizedReduce(4, 4, bias=True).train()
    for size in (8, 7):
        x = torch.relu(torch.randn(2, 4, size, size)).contiguous(memory_format=torch.channels_last)
        shifted = F.pad(x[:, :, 1:, 1:], (0, 1, 0, 1))
        expected = block.bn(torch.cat([_reference(block.conv_1, x), _reference(block.conv_2, shifted)], dim=1))
        torch.testing.assert_close(block.forward_after_relu(x), expected, rtol=1e-5, atol=1e-5)


def test_only_darts_below_four_channels_has_narrow_strided_convs():
    """C=2, 2 cells: 8 skip edges of the first reduction cell (4 channels, 2 convs each) and
    the next cell's preprocessing of the stem (6 channels); from C=4 every one has 8 or more."""
    assert narrow_strided_convs(build_supernet("darts", 10, 2, 2)) == 18
    assert narrow_strided_convs(build_supernet("darts", 10, 3, 5)) > 0
    assert narrow_strided_convs(build_supernet("darts", 10, 4, 2)) == 0
    assert narrow_strided_convs(build_supernet("nb201", 10, 2, 1)) == 0
    v2 = parse_genotype("darts", "DARTS_V2")
    assert narrow_strided_convs(build_network("darts", v2, 10, 2, 2, auxiliary=False)) == 2


def test_subsampling_can_be_turned_off_for_the_benchmark():
    net = build_supernet("darts", 10, 2, 2)
    blocks = [m for m in net.modules() if isinstance(m, FactorizedReduce)]
    assert blocks and all(b.subsample_narrow_on_cpu for b in blocks)
    set_narrow_subsampling(net, False)
    assert not any(b.subsample_narrow_on_cpu for b in blocks)
