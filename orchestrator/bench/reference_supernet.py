"""The straightforward supernet, kept so that the fast path can be checked and timed against it.

`ReferenceMixedOp` is DARTS's mixed op as written in the paper's code: every op runs (even
`none`), each applies its own ReLU, and the outputs are multiplied and summed one by one.
`reference_copy(supernet)` returns a deep copy of a supernet (same weights, α, buffers and
state_dict keys) with every mixed op swapped for that version and the default NCHW layout, so
that `alphadarts bench --compare-reference` and the unit tests compare the two on the same
weights and batch.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from search_space import MixedOp


class ReferenceMixedOp(MixedOp):
    """`sum(w * op(x))` over every op: the baseline the fast `MixedOp` must match."""

    def forward(self, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        return sum(w * op(x) for w, op in zip(weights, self.ops))


def reference_copy(supernet: nn.Module) -> nn.Module:
    """A copy of `supernet` that runs the straightforward mixed op in the NCHW layout."""
    ref = copy.deepcopy(supernet)
    for module in ref.modules():
        if type(module) is MixedOp:
            module.__class__ = ReferenceMixedOp
    ref.channels_last_on_cpu = False
    return ref
