"""The NAS-Bench-201 space's operations (Dong & Yang, ICLR 2020), in α column order; the
names are `search_space.catalog.nb201`'s.

As in the benchmark's reference ops (D-X-Y/AutoDL-Projects, cell_operations.py), a conv has a
bias exactly when its BN has no affine shift: the search supernet's convs carry biases, the
discrete network's (affine BN) do not.
"""

from __future__ import annotations

from torch import nn

from search_space.catalog import nb201 as catalog
from search_space.layers import FactorizedReduce, Identity, ReLUConvBN
from search_space.ops import OpBuilder, SearchOpBuilder, avg_pool_3x3, zero

OPS_NB201: tuple[str, ...] = catalog.OPS
PARAMETER_FREE_OPS_NB201: frozenset[str] = catalog.PARAMETER_FREE_OPS


def _skip(c: int, stride: int, affine: bool, track: bool) -> nn.Module:
    return Identity() if stride == 1 else FactorizedReduce(c, c, affine, track, bias=not affine)


OP_TABLE: dict[str, OpBuilder] = {
    "none": zero,
    "skip_connect": _skip,
    "nor_conv_1x1": lambda c, s, a, t: ReLUConvBN(c, c, 1, s, 0, 1, a, t, bias=not a),
    "nor_conv_3x3": lambda c, s, a, t: ReLUConvBN(c, c, 3, s, 1, 1, a, t, bias=not a),
    "avg_pool_3x3": avg_pool_3x3,
}

#: In the supernet BN has neither affine weights nor running statistics (docs/method.md).
SEARCH_OP_TABLE: dict[str, SearchOpBuilder] = {
    name: (lambda c, s, build=OP_TABLE[name]: build(c, s, False, False)) for name in OPS_NB201
}
