"""The building blocks both search spaces are made of (docs/method.md, "Search spaces").

Every block keeps the spatial size at stride 1 and maps n to ceil(n / 2) at stride 2, for odd
sizes too, so that the two inputs of a cell always agree in shape whatever the image size.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from search_space.strided_pointwise import pointwise_conv


class ReLUConvBN(nn.Sequential):
    """ReLU -> Conv -> BN: DARTS's preprocessing and NB201's `nor_conv_kxk`. The conv has no
    bias unless `bias` (NB201's reference gives it one exactly when BN has no affine shift)."""

    def __init__(
        self,
        c_in: int,
        c_out: int,
        kernel_size: int,
        stride: int,
        padding: int,
        dilation: int = 1,
        affine: bool = True,
        track_running_stats: bool = True,
        bias: bool = False,
    ) -> None:
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_out, kernel_size, stride, padding, dilation, bias=bias),
            nn.BatchNorm2d(c_out, affine=affine, track_running_stats=track_running_stats),
        )

    def forward_after_relu(self, x_relu: torch.Tensor) -> torch.Tensor:
        """`forward` minus its leading ReLU, for a mixed op that computes relu(x) once per edge."""
        return self[2](self[1](x_relu))


class DilConv(nn.Sequential):
    """ReLU -> depthwise kxk (dilated) -> pointwise 1x1 -> BN: DARTS's `dil_conv_kxk`."""

    def __init__(
        self,
        c_in: int,
        c_out: int,
        kernel_size: int,
        stride: int,
        padding: int,
        dilation: int,
        affine: bool = True,
        track_running_stats: bool = True,
    ) -> None:
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_in, kernel_size, stride, padding, dilation, groups=c_in, bias=False),
            nn.Conv2d(c_in, c_out, 1, bias=False),
            nn.BatchNorm2d(c_out, affine=affine, track_running_stats=track_running_stats),
        )

    def forward_after_relu(self, x_relu: torch.Tensor) -> torch.Tensor:
        """`forward` minus its leading ReLU (see ReLUConvBN.forward_after_relu)."""
        return self[3](self[2](self[1](x_relu)))


class SepConv(nn.Sequential):
    """DARTS's `sep_conv_kxk`: a separable conv applied twice, only the first one strided."""

    def __init__(
        self,
        c_in: int,
        c_out: int,
        kernel_size: int,
        stride: int,
        padding: int,
        affine: bool = True,
        track_running_stats: bool = True,
    ) -> None:
        super().__init__(
            DilConv(c_in, c_in, kernel_size, stride, padding, 1, affine, track_running_stats),
            DilConv(c_in, c_out, kernel_size, 1, padding, 1, affine, track_running_stats),
        )

    def forward_after_relu(self, x_relu: torch.Tensor) -> torch.Tensor:
        """`forward` minus its leading ReLU (the first separable conv's)."""
        return self[1](self[0].forward_after_relu(x_relu))


class Identity(nn.Module):
    """`skip_connect` at stride 1; its own class so drop path can recognise and spare it."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


class Zero(nn.Module):
    """`none`: zeros shaped like the op's output (subsampled at stride 2)."""

    def __init__(self, stride: int) -> None:
        super().__init__()
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride == 1:
            return x.mul(0.0)
        return x[:, :, :: self.stride, :: self.stride].mul(0.0)


class FactorizedReduce(nn.Module):
    """Halve the resolution without losing the odd pixels: two 1x1 stride-2 convs, the second
    on the input shifted by one pixel, concatenated.

    The shifted input is zero-padded back to the full size so both halves have ceil(n / 2)
    pixels for odd n too; for even n the padding is never sampled, which is exactly DARTS.
    An odd `c_out` gives the extra channel to the second half. `bias` as in ReLUConvBN.
    Both convs run through `strided_pointwise.pointwise_conv`, which keeps narrow ones off a
    oneDNN kernel that corrupts the heap on AVX2 CPUs.
    """

    #: see `strided_pointwise.pointwise_conv`; `alphadarts bench --compare-layouts` turns it off
    subsample_narrow_on_cpu = True

    def __init__(
        self,
        c_in: int,
        c_out: int,
        affine: bool = True,
        track_running_stats: bool = True,
        bias: bool = False,
    ) -> None:
        super().__init__()
        self.relu = nn.ReLU(inplace=False)
        self.conv_1 = nn.Conv2d(c_in, c_out // 2, 1, stride=2, bias=bias)
        self.conv_2 = nn.Conv2d(c_in, c_out - c_out // 2, 1, stride=2, bias=bias)
        self.bn = nn.BatchNorm2d(c_out, affine=affine, track_running_stats=track_running_stats)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_after_relu(self.relu(x))

    def forward_after_relu(self, x_relu: torch.Tensor) -> torch.Tensor:
        """`forward` minus its leading ReLU (see ReLUConvBN.forward_after_relu)."""
        shifted = F.pad(x_relu[:, :, 1:, 1:], (0, 1, 0, 1))
        narrow = self.subsample_narrow_on_cpu
        halves = [pointwise_conv(self.conv_1, x_relu, narrow), pointwise_conv(self.conv_2, shifted, narrow)]
        return self.bn(torch.cat(halves, dim=1))


def set_narrow_subsampling(model: nn.Module, enabled: bool) -> None:
    """Turn `pointwise_conv`'s subsampling of narrow strided convs on or off in every
    FactorizedReduce of `model` (off: the layout before it, which `alphadarts bench
    --compare-layouts` times)."""
    for module in model.modules():
        if isinstance(module, FactorizedReduce):
            module.subsample_narrow_on_cpu = enabled


class ResNetBasicBlock(nn.Module):
    """NB201's residual reduction block between stages: two 3x3 ReLUConvBN (the first at
    stride 2) plus a shortcut of 2x2 average pooling and a 1x1 conv."""

    def __init__(
        self, c_in: int, c_out: int, affine: bool = True, track_running_stats: bool = True
    ) -> None:
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, 2, 1, 1, affine, track_running_stats)
        self.conv_b = ReLUConvBN(c_out, c_out, 3, 1, 1, 1, affine, track_running_stats)
        self.downsample = nn.Sequential(
            nn.AvgPool2d(kernel_size=2, stride=2, padding=0, ceil_mode=True),
            nn.Conv2d(c_in, c_out, 1, bias=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.downsample(x) + self.conv_b(self.conv_a(x))


def drop_path(x: torch.Tensor, drop_prob: float) -> torch.Tensor:
    """Zero whole samples of an op's output with probability `drop_prob`, rescaling the kept
    ones by 1 / (1 - drop_prob) so the expected value is unchanged (DARTS evaluation)."""
    if drop_prob <= 0.0:
        return x
    keep_prob = 1.0 - drop_prob
    mask = torch.empty(x.shape[0], 1, 1, 1, dtype=x.dtype, device=x.device).bernoulli_(keep_prob)
    return x / keep_prob * mask
