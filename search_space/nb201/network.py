"""The NAS-Bench-201 network for one genotype, as the benchmark trains it."""

from __future__ import annotations

import torch
from torch import nn

from search_space.layers import Identity, ResNetBasicBlock, Zero, drop_path
from search_space.nb201.genotype import NB201_EDGES, NB201_NODES, Nb201Genotype
from search_space.nb201.ops import OP_TABLE


class Nb201Cell(nn.Module):
    """Node j sums its chosen op on every earlier node; the output is node 3. `none` edges
    are kept as Zero so a node whose inputs are all `none` is zeros, as in the benchmark."""

    def __init__(self, genotype: Nb201Genotype, channels: int) -> None:
        super().__init__()
        self.ops = nn.ModuleList(OP_TABLE[op](channels, 1, True, True) for op in genotype.ops)

    def forward(self, x: torch.Tensor, drop_prob: float = 0.0) -> torch.Tensor:
        nodes = [x]
        for to in range(1, NB201_NODES):
            total = 0
            for edge, (dst, src) in enumerate(NB201_EDGES):
                if dst != to:
                    continue
                op = self.ops[edge]
                h = op(nodes[src])
                if self.training and drop_prob > 0 and not isinstance(op, (Identity, Zero)):
                    h = drop_path(h, drop_prob)
                total = total + h
            nodes.append(total)
        return nodes[-1]


def nb201_macro(make_cell, num_classes: int, channels: int, layers: int, in_channels: int):
    """The NAS-Bench-201 macro skeleton, the same for the network and the supernet: stem,
    three stages of `layers` cells (`make_cell(width)`) joined by residual blocks, BN-ReLU,
    pooling, classifier. Returns (stem, cells, lastact, global_pooling, classifier)."""
    stem = nn.Sequential(nn.Conv2d(in_channels, channels, 3, padding=1, bias=False), nn.BatchNorm2d(channels))
    blocks: list[nn.Module] = []
    for stage in range(3):
        width = channels * 2**stage
        if stage > 0:
            blocks.append(ResNetBasicBlock(width // 2, width))
        blocks.extend(make_cell(width) for _ in range(layers))
    lastact = nn.Sequential(nn.BatchNorm2d(4 * channels), nn.ReLU(inplace=False))
    return stem, nn.ModuleList(blocks), lastact, nn.AdaptiveAvgPool2d(1), nn.Linear(4 * channels, num_classes)


class Nb201Network(nn.Module):
    """stem conv3x3 (C) + BN -> N cells -> residual block -> N cells (2C) -> residual block
    -> N cells (4C) -> BN-ReLU -> global pool -> linear. forward -> (logits, None), the same
    shape of answer as the DARTS networks (NB201 has no auxiliary head). Drop path is off by
    default (the benchmark does not use it) but honoured if a trainer sets it."""

    space = "nb201"

    def __init__(
        self,
        genotype: Nb201Genotype,
        num_classes: int,
        channels: int = 16,
        layers: int = 5,
        drop_path_prob: float = 0.0,
        in_channels: int = 3,
    ) -> None:
        super().__init__()
        self.num_classes, self.layers = num_classes, layers
        self.genotype = genotype
        self.drop_path_prob = drop_path_prob
        self.stem, self.cells, self.lastact, self.global_pooling, self.classifier = nb201_macro(
            lambda width: Nb201Cell(genotype, width), num_classes, channels, layers, in_channels)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, None]:
        h = self.stem(x)
        for block in self.cells:
            h = block(h, self.drop_path_prob) if isinstance(block, Nb201Cell) else block(h)
        logits = self.classifier(torch.flatten(self.global_pooling(self.lastact(h)), 1))
        return logits, None
