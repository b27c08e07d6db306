"""The continuous relaxation of one edge: every candidate op, mixed by softmax(α) weights."""

from __future__ import annotations

import torch
from torch import nn

from search_space.operations import build_search_op, ops_for


class MixedOp(nn.Module):
    """Weighted sum of every candidate op's output on one edge (DARTS's plain mixed op).

    Deliberately the straightforward version -- all ops run, even at weight ~0 -- and its own
    class with `forward(x, weights)`, so a faster variant can be swapped in without touching
    the cells.
    """

    def __init__(self, space: str, channels: int, stride: int) -> None:
        super().__init__()
        self.op_names = ops_for(space)
        self.ops = nn.ModuleList(
            build_search_op(space, name, channels, stride) for name in self.op_names
        )

    def forward(self, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """`weights`: this edge's softmax(α), one entry per op in `op_names` order."""
        return sum(w * op(x) for w, op in zip(weights, self.ops))
