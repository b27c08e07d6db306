"""The DARTS space's operations (Liu et al., ICLR 2019), in α column order (docs/method.md); the
names are `search_space.catalog.darts`'s."""

from __future__ import annotations

from torch import nn

from search_space.catalog import darts as catalog
from search_space.layers import DilConv, FactorizedReduce, Identity, SepConv
from search_space.ops import OpBuilder, SearchOpBuilder, avg_pool_3x3, max_pool_3x3, zero

OPS_DARTS: tuple[str, ...] = catalog.OPS
PARAMETER_FREE_OPS_DARTS: frozenset[str] = catalog.PARAMETER_FREE_OPS


def _skip(c: int, stride: int, affine: bool, track: bool) -> nn.Module:
    return Identity() if stride == 1 else FactorizedReduce(c, c, affine, track)


OP_TABLE: dict[str, OpBuilder] = {
    "none": zero,
    "max_pool_3x3": max_pool_3x3,
    "avg_pool_3x3": avg_pool_3x3,
    "skip_connect": _skip,
    "sep_conv_3x3": lambda c, s, a, t: SepConv(c, c, 3, s, 1, a, t),
    "sep_conv_5x5": lambda c, s, a, t: SepConv(c, c, 5, s, 2, a, t),
    "dil_conv_3x3": lambda c, s, a, t: DilConv(c, c, 3, s, 2, 2, a, t),
    "dil_conv_5x5": lambda c, s, a, t: DilConv(c, c, 5, s, 4, 2, a, t),
}


def _search_op(name: str) -> SearchOpBuilder:
    """BN without affine weights; every pooling op is followed by `BatchNorm2d(C,
    affine=False)` so its output scale matches the convolutions' (docs/method.md)."""

    def build(c: int, stride: int) -> nn.Module:
        op = OP_TABLE[name](c, stride, False, True)
        if "pool" in name:
            op = nn.Sequential(op, nn.BatchNorm2d(c, affine=False))
        return op

    return build


SEARCH_OP_TABLE: dict[str, SearchOpBuilder] = {name: _search_op(name) for name in OPS_DARTS}
