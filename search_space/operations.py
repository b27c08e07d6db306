"""The candidate operations of each space, by name, in the order α files are written in.

The order of `OPS_DARTS` and `OPS_NB201` is part of every α file and checkpoint (METHOD.md):
column k of an α matrix is the op `ops_for(space)[k]`. Never reorder them.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from search_space.errors import SearchSpaceError
from search_space.layers import DilConv, FactorizedReduce, Identity, ReLUConvBN, SepConv, Zero

SPACES: tuple[str, ...] = ("darts", "nb201")

OPS_DARTS: tuple[str, ...] = (
    "none",
    "max_pool_3x3",
    "avg_pool_3x3",
    "skip_connect",
    "sep_conv_3x3",
    "sep_conv_5x5",
    "dil_conv_3x3",
    "dil_conv_5x5",
)

OPS_NB201: tuple[str, ...] = (
    "none",
    "skip_connect",
    "nor_conv_1x1",
    "nor_conv_3x3",
    "avg_pool_3x3",
)

#: Ops without weights: the ones DARTS collapses to, counted as a collapse signal.
PARAMETER_FREE_OPS: frozenset[str] = frozenset(
    {"none", "max_pool_3x3", "avg_pool_3x3", "skip_connect"}
)

#: builder(C, stride, affine, track_running_stats) -> module mapping C channels to C channels.
OpBuilder = Callable[[int, int, bool, bool], nn.Module]


def _skip(c: int, stride: int, affine: bool, track: bool) -> nn.Module:
    return Identity() if stride == 1 else FactorizedReduce(c, c, affine, track)


def _avg_pool(c: int, stride: int, affine: bool, track: bool) -> nn.Module:
    return nn.AvgPool2d(3, stride=stride, padding=1, count_include_pad=False)


def _max_pool(c: int, stride: int, affine: bool, track: bool) -> nn.Module:
    return nn.MaxPool2d(3, stride=stride, padding=1)


def _zero(c: int, stride: int, affine: bool, track: bool) -> nn.Module:
    return Zero(stride)


_DARTS_BUILDERS: dict[str, OpBuilder] = {
    "none": _zero,
    "max_pool_3x3": _max_pool,
    "avg_pool_3x3": _avg_pool,
    "skip_connect": _skip,
    "sep_conv_3x3": lambda c, s, a, t: SepConv(c, c, 3, s, 1, a, t),
    "sep_conv_5x5": lambda c, s, a, t: SepConv(c, c, 5, s, 2, a, t),
    "dil_conv_3x3": lambda c, s, a, t: DilConv(c, c, 3, s, 2, 2, a, t),
    "dil_conv_5x5": lambda c, s, a, t: DilConv(c, c, 5, s, 4, 2, a, t),
}

def _nb201_skip(c: int, stride: int, affine: bool, track: bool) -> nn.Module:
    return Identity() if stride == 1 else FactorizedReduce(c, c, affine, track, bias=not affine)


#: As in NAS-Bench-201's reference ops (D-X-Y/AutoDL-Projects, cell_operations.py), a conv is
#: given a bias exactly when its BN has no affine shift: the search supernet's convs carry
#: biases, the discrete network's (affine BN) do not.
_NB201_BUILDERS: dict[str, OpBuilder] = {
    "none": _zero,
    "skip_connect": _nb201_skip,
    "nor_conv_1x1": lambda c, s, a, t: ReLUConvBN(c, c, 1, s, 0, 1, a, t, bias=not a),
    "nor_conv_3x3": lambda c, s, a, t: ReLUConvBN(c, c, 3, s, 1, 1, a, t, bias=not a),
    "avg_pool_3x3": _avg_pool,
}

_BUILDERS: dict[str, dict[str, OpBuilder]] = {"darts": _DARTS_BUILDERS, "nb201": _NB201_BUILDERS}


def check_space(space: str) -> str:
    """Return `space` if it names a search space, else raise SearchSpaceError."""
    if space not in SPACES:
        raise SearchSpaceError(f"space {space!r} is not known; allowed: {', '.join(SPACES)}.")
    return space


def ops_for(space: str) -> tuple[str, ...]:
    """The op names of `space`, in α column order."""
    return OPS_DARTS if check_space(space) == "darts" else OPS_NB201


def check_op(space: str, name: object, field: str = "op") -> str:
    """Return `name` if it is an op of `space`, else raise SearchSpaceError naming `field`."""
    ops = ops_for(space)
    if not isinstance(name, str) or name not in ops:
        raise SearchSpaceError(
            f"{field} {name!r} is not a {space} operation; allowed: {', '.join(ops)}."
        )
    return name


def build_op(
    space: str,
    name: str,
    channels: int,
    stride: int,
    affine: bool = True,
    track_running_stats: bool = True,
) -> nn.Module:
    """One op of a discrete network: C channels in, C out, spatial size divided by `stride`."""
    check_op(space, name)
    if stride not in (1, 2):
        raise SearchSpaceError(f"stride {stride!r} is not supported; allowed: 1, 2.")
    return _BUILDERS[space][name](channels, stride, affine, track_running_stats)


def build_search_op(space: str, name: str, channels: int, stride: int) -> nn.Module:
    """One op as the supernet holds it (METHOD.md): BN without affine weights; in DARTS every
    pooling op is followed by `BatchNorm2d(C, affine=False)` so its output scale matches the
    convolutions'; in NB201 BN also keeps no running statistics (batch statistics always)."""
    if space == "darts":
        op = build_op(space, name, channels, stride, affine=False)
        if "pool" in name:
            op = nn.Sequential(op, nn.BatchNorm2d(channels, affine=False))
        return op
    return build_op(space, name, channels, stride, affine=False, track_running_stats=False)
