"""From α to a DARTS genotype (docs/method.md): softmax per edge; per node keep the 2 incoming
edges with the largest non-`none` weight (strongest first), on each the argmax non-`none` op.
Ties: the earlier edge, the earlier op."""

from __future__ import annotations

from collections.abc import Mapping

import torch

from search_space.alphas import argmax_first
from search_space.darts.genotype import DARTS_STEPS, DartsGenotype
from search_space.darts.ops import OPS_DARTS

DARTS_EDGES = sum(2 + i for i in range(DARTS_STEPS))  #: 14

ALPHA_SHAPES_DARTS: dict[str, tuple[int, int]] = {
    "normal": (DARTS_EDGES, len(OPS_DARTS)),
    "reduce": (DARTS_EDGES, len(OPS_DARTS)),
}


def _derive_cell(weights: torch.Tensor) -> list[tuple[str, int]]:
    none = OPS_DARTS.index("none")
    rows = weights.tolist()
    cell: list[tuple[str, int]] = []
    start = 0
    for node in range(DARTS_STEPS):
        edges = rows[start : start + node + 2]
        strength = [max(w for k, w in enumerate(edge) if k != none) for edge in edges]
        # Python's sort is stable: among equal strengths the lower input index comes first.
        kept = sorted(range(len(edges)), key=lambda j: -strength[j])[:2]
        cell.extend((OPS_DARTS[argmax_first(edges[j], skip=none)], j) for j in kept)
        start += node + 2
    return cell


def derive_darts(alphas: Mapping[str, torch.Tensor]) -> DartsGenotype:
    """`alphas`: checked float64 α ({"normal", "reduce"}, 14 x 8 each)."""
    probs = {key: torch.softmax(value, dim=-1) for key, value in alphas.items()}
    return DartsGenotype(
        normal=_derive_cell(probs["normal"]),
        normal_concat=range(2, 2 + DARTS_STEPS),
        reduce=_derive_cell(probs["reduce"]),
        reduce_concat=range(2, 2 + DARTS_STEPS),
    )
