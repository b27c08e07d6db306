"""DARTS evaluation networks built from a genotype: CIFAR and ImageNet (mobile setting)."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from search_space.darts.auxiliary_heads import auxiliary_head_cifar, auxiliary_head_imagenet
from search_space.darts.genotype import DartsGenotype
from search_space.darts.layout import STEM_MULTIPLIER, reduction_layers
from search_space.darts.ops import OP_TABLE
from search_space.errors import SearchSpaceError
from search_space.layers import FactorizedReduce, Identity, ReLUConvBN, drop_path


class DartsCell(nn.Module):
    """Node i applies its two chosen ops to their inputs and sums them; the output
    concatenates the genotype's concat nodes. Drop path hits every op but identity."""

    def __init__(
        self,
        genotype: DartsGenotype,
        c_prev_prev: int,
        c_prev: int,
        channels: int,
        reduction: bool,
        reduction_prev: bool,
    ) -> None:
        super().__init__()
        self.reduction = reduction
        if reduction_prev:
            self.preprocess0: nn.Module = FactorizedReduce(c_prev_prev, channels)
        else:
            self.preprocess0 = ReLUConvBN(c_prev_prev, channels, 1, 1, 0)
        self.preprocess1 = ReLUConvBN(c_prev, channels, 1, 1, 0)
        pairs = genotype.reduce if reduction else genotype.normal
        self.concat = genotype.reduce_concat if reduction else genotype.normal_concat
        self.indices = tuple(src for _, src in pairs)
        self.ops = nn.ModuleList(
            OP_TABLE[op](channels, 2 if reduction and src < 2 else 1, True, True) for op, src in pairs
        )
        self.out_channels = len(self.concat) * channels

    def forward(self, s0: torch.Tensor, s1: torch.Tensor, drop_prob: float) -> torch.Tensor:
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        for node in range(len(self.ops) // 2):
            total = 0
            for k in (2 * node, 2 * node + 1):
                op = self.ops[k]
                h = op(states[self.indices[k]])
                if self.training and drop_prob > 0 and not isinstance(op, Identity):
                    h = drop_path(h, drop_prob)
                total = total + h
            states.append(total)
        return torch.cat([states[i] for i in self.concat], dim=1)


class _DartsNetwork(nn.Module):
    """Cells stacked after a stem, reductions at layers//3 and 2*layers//3; the auxiliary
    head reads the output of cell 2*layers//3 while training. forward -> (logits, aux|None)."""

    space = "darts"

    def _build_cells(
        self,
        genotype: DartsGenotype,
        num_classes: int,
        channels: int,
        layers: int,
        c_stem: int,
        reduction_prev: bool,
        auxiliary: bool,
        head: Callable[[int, int], nn.Module],
    ) -> None:
        self.genotype = genotype
        self.num_classes = num_classes
        self.layers = layers
        self.auxiliary = auxiliary
        self.drop_path_prob = 0.0
        self.auxiliary_index = 2 * layers // 3
        reductions = reduction_layers(layers)
        c_prev_prev, c_prev, c_curr = c_stem, c_stem, channels
        cells = []
        c_aux = c_prev
        for index in range(layers):
            reduction = index in reductions
            if reduction:
                c_curr *= 2
            cell = DartsCell(genotype, c_prev_prev, c_prev, c_curr, reduction, reduction_prev)
            cells.append(cell)
            reduction_prev = reduction
            c_prev_prev, c_prev = c_prev, cell.out_channels
            if index == self.auxiliary_index:
                c_aux = c_prev
        self.cells = nn.ModuleList(cells)
        if auxiliary:
            self.auxiliary_head = head(c_aux, num_classes)
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_prev, num_classes)

    def _stem(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        logits_aux = None
        s0, s1 = self._stem(x)
        for index, cell in enumerate(self.cells):
            s0, s1 = s1, cell(s0, s1, self.drop_path_prob)
            if index == self.auxiliary_index and self.auxiliary and self.training:
                logits_aux = self.auxiliary_head(s1)
        logits = self.classifier(torch.flatten(self.global_pooling(s1), 1))
        return logits, logits_aux


class NetworkCIFAR(_DartsNetwork):
    """DARTS's CIFAR network: stem conv3x3 -> 3C + BN, then the cells (32x32 input)."""

    def __init__(
        self,
        genotype: DartsGenotype,
        num_classes: int,
        channels: int,
        layers: int,
        auxiliary: bool = False,
        drop_path_prob: float = 0.0,
        in_channels: int = 3,
    ) -> None:
        super().__init__()
        c_stem = STEM_MULTIPLIER * channels
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, c_stem, 3, padding=1, bias=False), nn.BatchNorm2d(c_stem)
        )
        self._build_cells(
            genotype, num_classes, channels, layers, c_stem, False, auxiliary, auxiliary_head_cifar
        )
        self.drop_path_prob = drop_path_prob

    def _stem(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        s = self.stem(x)
        return s, s


class NetworkImageNet(_DartsNetwork):
    """DARTS's ImageNet mobile network (224x224 input): two strided stems (1/4 and 1/8 of
    the input), the first cell seeing a reduced previous state."""

    def __init__(
        self,
        genotype: DartsGenotype,
        num_classes: int,
        channels: int,
        layers: int,
        auxiliary: bool = False,
        drop_path_prob: float = 0.0,
        in_channels: int = 3,
    ) -> None:
        super().__init__()
        if channels < 2:
            raise SearchSpaceError(
                f"channels {channels!r} is not allowed for the ImageNet network; it must be an "
                f"integer >= 2 (its first stem has channels // 2)."
            )
        self.stem0 = nn.Sequential(
            nn.Conv2d(in_channels, channels // 2, 3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(channels // 2),
            nn.ReLU(inplace=False),
            nn.Conv2d(channels // 2, channels, 3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(channels),
        )
        self.stem1 = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(channels, channels, 3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(channels),
        )
        self._build_cells(
            genotype, num_classes, channels, layers, channels, True, auxiliary,
            auxiliary_head_imagenet,
        )
        self.drop_path_prob = drop_path_prob

    def _stem(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        s0 = self.stem0(x)
        return s0, self.stem1(s0)
