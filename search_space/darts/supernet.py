"""The DARTS supernet (Liu et al., ICLR 2019): stacked cells of 14 mixed edges."""

from __future__ import annotations

import torch
from torch import nn

from search_space.darts.derive import ALPHA_SHAPES_DARTS, derive_darts
from search_space.darts.genotype import DARTS_STEPS
from search_space.darts.layout import STEM_MULTIPLIER, reduction_layers
from search_space.darts.ops import SEARCH_OP_TABLE
from search_space.layers import FactorizedReduce, ReLUConvBN
from search_space.mixed_op import MixedOp, cpu_layout
from search_space.supernet_base import SearchCell, Supernet


class DartsSearchCell(SearchCell):
    """Two preprocessed inputs, 4 nodes, node i summing a MixedOp over every earlier state;
    output = the 4 nodes concatenated. In a reduction cell edges from the inputs use stride 2."""

    def __init__(
        self, c_prev_prev: int, c_prev: int, channels: int, reduction: bool, reduction_prev: bool
    ) -> None:
        super().__init__()
        self.reduction = reduction
        if reduction_prev:
            self.preprocess0: nn.Module = FactorizedReduce(c_prev_prev, channels, affine=False)
        else:
            self.preprocess0 = ReLUConvBN(c_prev_prev, channels, 1, 1, 0, affine=False)
        self.preprocess1 = ReLUConvBN(c_prev, channels, 1, 1, 0, affine=False)
        self.edges = nn.ModuleList(
            MixedOp(SEARCH_OP_TABLE, channels, 2 if reduction and src < 2 else 1)
            for node in range(DARTS_STEPS)
            for src in range(node + 2)
        )

    def forward(self, s0: torch.Tensor, s1: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """`weights`: softmax(α) of this cell type, [14, 8], edges in node-major order."""
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        offset = 0
        for _ in range(DARTS_STEPS):
            node = sum(
                self.run_edge(self.edges[offset + j], h, weights[offset + j]) for j, h in enumerate(states)
            )
            offset += len(states)
            states.append(node)
        return torch.cat(states[-DARTS_STEPS:], dim=1)


class DartsSupernet(Supernet):
    """stem (3C) -> `layers` cells (reductions at layers//3, 2*layers//3, channels doubling)
    -> global pool -> linear. `forward` returns (logits, last feature map)."""

    space = "darts"
    alpha_shapes = ALPHA_SHAPES_DARTS
    derive = staticmethod(derive_darts)
    #: see `mixed_op.cpu_layout`; `orchestrator.bench.reference_supernet` turns it off.
    channels_last_on_cpu = True

    def __init__(self, num_classes: int, channels: int, layers: int, in_channels: int = 3) -> None:
        super().__init__()
        self.num_classes, self.channels, self.layers = num_classes, channels, layers
        c_curr = STEM_MULTIPLIER * channels
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, c_curr, 3, padding=1, bias=False), nn.BatchNorm2d(c_curr)
        )
        reductions = reduction_layers(layers)
        c_prev_prev, c_prev, c_curr = c_curr, c_curr, channels
        reduction_prev = False
        cells = []
        for index in range(layers):
            reduction = index in reductions
            if reduction:
                c_curr *= 2
            cells.append(DartsSearchCell(c_prev_prev, c_prev, c_curr, reduction, reduction_prev))
            reduction_prev = reduction
            c_prev_prev, c_prev = c_prev, DARTS_STEPS * c_curr
        self.cells = nn.ModuleList(cells)
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_prev, num_classes)
        self.feature_channels = c_prev
        self.feature_stride = 2 ** len(reductions)
        self._init_alphas()

    def first_stage_cells(self) -> list[nn.Module]:
        """The normal cells before the first reduction, and that reduction cell (its edges
        from the cell inputs run at full resolution)."""
        first = next((i for i, cell in enumerate(self.cells) if cell.reduction), len(self.cells) - 1)
        return list(self.cells[: first + 1])

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        weights = self.op_weights()
        x = cpu_layout(x, self.channels_last_on_cpu)
        s0 = s1 = self.stem(x)
        for cell in self.cells:
            s0, s1 = s1, self.run_cell(cell, s0, s1, weights["reduce" if cell.reduction else "normal"])
        logits = self.classifier(torch.flatten(self.global_pooling(s1), 1))
        return logits, s1
