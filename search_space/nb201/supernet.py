"""The NAS-Bench-201 supernet (Dong & Yang, ICLR 2020): 3 stages of N searchable cells."""

from __future__ import annotations

import torch
from torch import nn

from search_space.mixed_op import MixedOp, cpu_layout
from search_space.nb201.derive import ALPHA_SHAPES_NB201, derive_nb201
from search_space.nb201.genotype import NB201_EDGES, NB201_NODES
from search_space.nb201.network import nb201_macro
from search_space.nb201.ops import SEARCH_OP_TABLE
from search_space.supernet_base import SearchCell, Supernet


class Nb201SearchCell(SearchCell):
    """Node j sums a MixedOp over every earlier node (6 edges); the output is node 3."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.edges = nn.ModuleList(MixedOp(SEARCH_OP_TABLE, channels, 1) for _ in NB201_EDGES)

    def forward(self, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """`weights`: softmax(α), [6, 5], rows in `NB201_EDGES` order."""
        nodes = [x]
        edge = 0
        for to in range(1, NB201_NODES):
            total = 0
            for src in range(to):
                total = total + self.run_edge(self.edges[edge], nodes[src], weights[edge])
                edge += 1
            nodes.append(total)
        return nodes[-1]


class Nb201Supernet(Supernet):
    """stem conv3x3 (C) + BN -> N cells (C) -> residual block -> N cells (2C) -> residual
    block -> N cells (4C) -> BN-ReLU -> global pool -> linear. Cell BN has no affine weights
    and no running statistics (docs/method.md); stem, residual blocks and last BN are plain."""

    space = "nb201"
    alpha_shapes = ALPHA_SHAPES_NB201
    derive = staticmethod(derive_nb201)
    #: see `mixed_op.cpu_layout`; `orchestrator.bench.reference_supernet` turns it off.
    channels_last_on_cpu = True

    def __init__(
        self, num_classes: int, channels: int = 16, layers: int = 5, in_channels: int = 3
    ) -> None:
        super().__init__()
        self.num_classes, self.channels, self.layers = num_classes, channels, layers
        self.stem, self.cells, self.lastact, self.global_pooling, self.classifier = nb201_macro(
            Nb201SearchCell, num_classes, channels, layers, in_channels)
        self.feature_channels = 4 * channels
        self.feature_stride = 4
        self._init_alphas()

    def first_stage_cells(self) -> list[nn.Module]:
        """The cells before the first residual (reduction) block."""
        first = next(i for i, block in enumerate(self.cells) if not isinstance(block, Nb201SearchCell))
        return list(self.cells[:first])

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        weights = self.op_weights()["cell"]
        x = cpu_layout(x, self.channels_last_on_cpu)
        h = self.stem(x)
        for block in self.cells:
            h = self.run_cell(block, h, weights) if isinstance(block, Nb201SearchCell) else block(h)
        features = self.lastact(h)
        logits = self.classifier(torch.flatten(self.global_pooling(features), 1))
        return logits, features
