"""The continuous relaxation of one edge: every candidate op, mixed by softmax(α) weights.

`MixedOp` computes exactly `sum_k w_k * op_k(x)` (DARTS) but does no work that cannot change
that sum or its gradients:

* `none` (a `Zero` op) is skipped: its output is zero, so `w_none * 0` adds nothing to the output nor to
  any gradient (α_none still gets its gradient through the softmax of the other terms).
* The ReLU that every conv op (and FactorizedReduce) applies first is computed once per edge
  and fed to each op's `forward_after_relu`; one ReLU output is also saved for backward
  instead of one per op.
* The weighted sum is a chain of fused `addcmul`s instead of separate mul and add kernels.

The modules are the same as the straightforward version's (`orchestrator.bench.reference_supernet`), so
state_dict keys, parameter shapes and checkpoints do not change.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import nn

from search_space.layers import Zero
from search_space.ops import SearchOpBuilder


class MixedOp(nn.Module):
    """Weighted sum of every candidate op's output on one edge (`forward(x, weights)`).

    `search_ops`: a space's search op table (name -> builder(C, stride)), in α column order."""

    def __init__(self, search_ops: Mapping[str, SearchOpBuilder], channels: int, stride: int):
        super().__init__()
        self.op_names = tuple(search_ops)
        self.ops = nn.ModuleList(build(channels, stride) for build in search_ops.values())
        # Which ops run, and which of them start with a ReLU we may hoist.
        self._plan = tuple(
            (k, hasattr(op, "forward_after_relu"))
            for k, op in enumerate(self.ops)
            if not isinstance(op, Zero)
        )

    def forward(self, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """`weights`: this edge's softmax(α), one entry per op in `op_names` order."""
        x_relu = None
        out = None
        for k, after_relu in self._plan:
            op = self.ops[k]
            if after_relu:
                if x_relu is None:
                    x_relu = F.relu(x)
                y = op.forward_after_relu(x_relu)
            else:
                y = op(x)
            out = y * weights[k] if out is None else torch.addcmul(out, y, weights[k])
        return out


def cpu_layout(x: torch.Tensor, channels_last_on_cpu: bool = True) -> torch.Tensor:
    """The supernet's input in channels_last on CPU: measured there, the depthwise convs'
    backward is ~8x and pooling ~3-10x faster than in NCHW (docs/benchmarks.md), and every
    later op keeps the layout. On CUDA the layout is left to `runtime.channels_last`. (One
    oneDNN kernel fails on narrow channels_last inputs with AVX2: `strided_pointwise`.)"""
    if channels_last_on_cpu and x.device.type == "cpu" and x.dim() == 4:
        return x.contiguous(memory_format=torch.channels_last)
    return x
