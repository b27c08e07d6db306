"""From α to a genotype, for any registered space: the α shapes, the one α check, and the
space's derivation rules."""

from __future__ import annotations

from collections.abc import Mapping

import torch

from search_space.alphas import check_alphas
from search_space.genotype_io import Genotype
from search_space.registry import get_space


def alpha_shapes(space: str) -> Mapping[str, tuple[int, int]]:
    """α keys and (edges, ops) shapes of `space`, as α files hold them."""
    return get_space(space).alpha_shapes


def validate_alphas(space: str, alphas: Mapping[str, object]) -> dict[str, torch.Tensor]:
    """Check keys, shapes and finiteness; return float64 CPU copies keyed as α files are."""
    return check_alphas(space, alpha_shapes(space), alphas)


def derive_genotype(space: str, alphas: Mapping[str, object]) -> Genotype:
    """The genotype α select, by the rules of `space` (docs/method.md); α are checked first."""
    found = get_space(space)
    return found.derive(check_alphas(space, found.alpha_shapes, alphas))
