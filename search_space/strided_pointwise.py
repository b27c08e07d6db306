"""The 1x1 stride-2 convolution of `FactorizedReduce`, kept off a oneDNN kernel that
corrupts the heap on CPUs with AVX2 but no AVX-512.

oneDNN's AVX2 1x1 backward-weights kernel (torch 2.14.1, oneDNN 3.12.0), given a
channels_last input, stride 2 and fewer input channels than its 8-channel block, writes past
the workspace it copies the strided input into (uxlfoundation/oneDNN#6035): glibc aborts the
process ("corrupted double-linked list"), or with two threads the weight gradient comes out
wrong or the kernel spins (tests/repro/onednn_avx2_abort.py). The supernets run channels_last on CPU
(`mixed_op.cpu_layout`), and tiny supernets (C=2: 4 and 6 input channels) reach it.

A 1x1 convolution without padding at stride s is the same convolution at stride 1 on every
s-th pixel, and at stride 1 that kernel has no such copy to make: for fewer than 8 input
channels on CPU the subsampling is done here, in the layout the input already has (for every
size: that some sizes get another kernel is oneDNN's choice to make). Measured under
`ONEDNN_MAX_CPU_ISA=AVX2`: 2-7 input channels failed wherever oneDNN picked that kernel, 1
and 8-128 never did, nor did stride 1 at 1-9 channels. Where it applies the convolution is
tiny, and so is its cost; from 8 input channels on (every DARTS supernet from C=4 up, the
search defaults included) nothing changes (docs/benchmarks.md).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

#: input channels below which the stride is taken by slicing on CPU: oneDNN's AVX2
#: 1x1 kernels work in blocks of 8 channels
NARROW_INPUT_CHANNELS = 8


def subsamples_on_cpu(conv: nn.Conv2d) -> bool:
    """Whether `pointwise_conv` slices the input of `conv` instead of striding on CPU."""
    return (conv.in_channels < NARROW_INPUT_CHANNELS and conv.stride != (1, 1)
            and conv.kernel_size == (1, 1) and conv.padding == (0, 0) and conv.groups == 1)


def narrow_strided_convs(model: nn.Module) -> int:
    """How many convs of `model` `pointwise_conv` subsamples on CPU."""
    return sum(isinstance(m, nn.Conv2d) and subsamples_on_cpu(m) for m in model.modules())


def pointwise_conv(conv: nn.Conv2d, x: torch.Tensor, subsample_narrow: bool = True) -> torch.Tensor:
    """`conv(x)` for a 1x1, unpadded `conv`, computed at stride 1 on x[..., ::s, ::s] where
    `subsamples_on_cpu(conv)` and x is on CPU (`subsample_narrow=False`: always `conv(x)`,
    the layout before this module, for `alphadarts bench --compare-layouts`)."""
    if subsample_narrow and x.device.type == "cpu" and subsamples_on_cpu(conv):
        sh, sw = conv.stride
        return F.conv2d(x[:, :, ::sh, ::sw], conv.weight, conv.bias)
    return conv(x)
