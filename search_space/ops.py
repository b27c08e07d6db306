"""Op tables: what a space's op names build, and the weight-free ops every space may share.

A space's op table maps each op name to `builder(C, stride, affine, track_running_stats)`,
a module from C channels to C channels that divides the spatial size by `stride`; its search
table maps each name to `builder(C, stride)`, the op as the supernet holds it. The order of
a space's op names is part of every α file and checkpoint: column k of an α matrix is op k.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from torch import nn

from search_space.errors import SearchSpaceError
from search_space.layers import Zero

#: builder(C, stride, affine, track_running_stats) -> module mapping C channels to C channels.
OpBuilder = Callable[[int, int, bool, bool], nn.Module]
#: builder(C, stride) -> the op as a supernet's mixed op holds it.
SearchOpBuilder = Callable[[int, int], nn.Module]


def zero(c: int, stride: int, affine: bool, track: bool) -> nn.Module:
    """`none`: zeros (a mixed op skips it, see MixedOp)."""
    return Zero(stride)


def avg_pool_3x3(c: int, stride: int, affine: bool, track: bool) -> nn.Module:
    return nn.AvgPool2d(3, stride=stride, padding=1, count_include_pad=False)


def max_pool_3x3(c: int, stride: int, affine: bool, track: bool) -> nn.Module:
    return nn.MaxPool2d(3, stride=stride, padding=1)


def check_op_name(ops: Sequence[str], space: str, name: object, field: str = "op") -> str:
    """Return `name` if it is one of `ops` (the op names of `space`), else raise
    SearchSpaceError naming `field`."""
    if not isinstance(name, str) or name not in ops:
        raise SearchSpaceError(
            f"{field} {name!r} is not a {space} operation; allowed: {', '.join(ops)}."
        )
    return name


def check_stride(stride: object) -> int:
    if stride not in (1, 2) or isinstance(stride, bool):
        raise SearchSpaceError(f"stride {stride!r} is not supported; allowed: 1, 2.")
    return stride  # type: ignore[return-value]
