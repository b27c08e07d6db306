"""From α to a NAS-Bench-201 genotype (docs/method.md): per edge the argmax over all 5 ops,
`none` included (ties: the earlier op)."""

from __future__ import annotations

from collections.abc import Mapping

import torch

from search_space.alphas import argmax_first
from search_space.nb201.genotype import NB201_EDGES, Nb201Genotype
from search_space.nb201.ops import OPS_NB201

ALPHA_SHAPES_NB201: dict[str, tuple[int, int]] = {"cell": (len(NB201_EDGES), len(OPS_NB201))}


def derive_nb201(alphas: Mapping[str, torch.Tensor]) -> Nb201Genotype:
    """`alphas`: checked float64 α ({"cell"}, 6 x 5)."""
    probs = torch.softmax(alphas["cell"], dim=-1)
    return Nb201Genotype(tuple(OPS_NB201[argmax_first(row)] for row in probs.tolist()))
