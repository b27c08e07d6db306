"""From α to a discrete genotype, by METHOD.md's rules, plus the α-entropy collapse signal.

Ties are broken deterministically: the lowest index wins (the earlier edge when ranking a
node's incoming edges, the earlier op in `ops_for(space)` when choosing an edge's op).
Softmax is taken in float64 so that distinct α rarely become ties by rounding.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import torch

from search_space.errors import SearchSpaceError
from search_space.genotypes import (
    DARTS_STEPS,
    NB201_EDGES,
    DartsGenotype,
    Genotype,
    Nb201Genotype,
)
from search_space.operations import OPS_DARTS, OPS_NB201, check_space

DARTS_EDGES = sum(2 + i for i in range(DARTS_STEPS))  #: 14

#: α keys and (edges, ops) shapes, exactly as α files and `Supernet.alphas()` hold them.
ALPHA_SHAPES: dict[str, dict[str, tuple[int, int]]] = {
    "darts": {"normal": (DARTS_EDGES, len(OPS_DARTS)), "reduce": (DARTS_EDGES, len(OPS_DARTS))},
    "nb201": {"cell": (len(NB201_EDGES), len(OPS_NB201))},
}


def validate_alphas(space: str, alphas: Mapping[str, object]) -> dict[str, torch.Tensor]:
    """Check keys, shapes and finiteness; return float64 CPU copies keyed as α files are."""
    expected = ALPHA_SHAPES[check_space(space)]
    if not isinstance(alphas, Mapping):
        raise SearchSpaceError(
            f"alphas {type(alphas).__name__} is not a mapping; expected keys {sorted(expected)}."
        )
    if set(alphas) != set(expected):
        raise SearchSpaceError(
            f"alphas keys {sorted(map(str, alphas))} do not match the {space} space; "
            f"expected exactly {sorted(expected)}."
        )
    checked = {}
    for key, shape in expected.items():
        value = alphas[key]
        try:
            tensor = torch.as_tensor(value).detach().to(device="cpu", dtype=torch.float64)
        except (TypeError, ValueError, RuntimeError) as exc:
            raise SearchSpaceError(
                f"alpha {key!r} is not a numeric matrix ({exc}); expected shape {shape}."
            ) from None
        if tuple(tensor.shape) != shape:
            raise SearchSpaceError(
                f"alpha {key!r} has shape {tuple(tensor.shape)}; expected {shape} "
                f"(edges x ops, ops in METHOD.md order)."
            )
        if not torch.isfinite(tensor).all():
            raise SearchSpaceError(
                f"alpha {key!r} contains NaN or infinite values; all must be finite."
            )
        checked[key] = tensor
    return checked


def _argmax(values: list[float], skip: int | None = None) -> int:
    """Index of the largest value (lowest index on ties), ignoring index `skip`."""
    best = None
    for index, value in enumerate(values):
        if index != skip and (best is None or value > values[best]):
            best = index
    assert best is not None
    return best


def _derive_darts_cell(weights: torch.Tensor) -> list[tuple[str, int]]:
    none = OPS_DARTS.index("none")
    rows = weights.tolist()
    cell: list[tuple[str, int]] = []
    start = 0
    for node in range(DARTS_STEPS):
        edges = rows[start : start + node + 2]
        strength = [max(w for k, w in enumerate(edge) if k != none) for edge in edges]
        # Python's sort is stable: among equal strengths the lower input index comes first.
        kept = sorted(range(len(edges)), key=lambda j: -strength[j])[:2]
        cell.extend((OPS_DARTS[_argmax(edges[j], skip=none)], j) for j in kept)
        start += node + 2
    return cell


def derive_genotype(space: str, alphas: Mapping[str, object]) -> Genotype:
    """DARTS: softmax per edge; per node keep the 2 incoming edges with the largest non-`none`
    weight (strongest first), on each the argmax non-`none` op. NB201: per edge the argmax
    over all 5 ops, `none` included."""
    checked = validate_alphas(space, alphas)
    probs = {key: torch.softmax(value, dim=-1) for key, value in checked.items()}
    if space == "darts":
        return DartsGenotype(
            normal=_derive_darts_cell(probs["normal"]),
            normal_concat=range(2, 2 + DARTS_STEPS),
            reduce=_derive_darts_cell(probs["reduce"]),
            reduce_concat=range(2, 2 + DARTS_STEPS),
        )
    return Nb201Genotype(tuple(OPS_NB201[_argmax(row)] for row in probs["cell"].tolist()))


def alpha_top_weight(alphas: Mapping[str, object]) -> float:
    """Mean over all edges of the strongest op's softmax weight: 1/#ops at the uniform start,
    rising towards 1 as α commits; tells at a glance whether α has separated at all."""
    rows = _alpha_rows(alphas)
    return float(torch.softmax(rows, dim=-1).max(dim=-1).values.mean().item())


def _alpha_rows(alphas: Mapping[str, object]) -> torch.Tensor:
    """Every edge's α row of every cell type, stacked (float64)."""
    if not isinstance(alphas, Mapping) or not alphas:
        raise SearchSpaceError(
            "alphas must be a non-empty mapping of name -> (edges x ops) matrix."
        )
    rows = []
    for key, value in alphas.items():
        tensor = torch.as_tensor(value).detach().to(device="cpu", dtype=torch.float64)
        if tensor.dim() != 2 or tensor.numel() == 0:
            raise SearchSpaceError(
                f"alpha {key!r} has shape {tuple(tensor.shape)}; "
                f"expected a non-empty edges x ops matrix."
            )
        rows.append(tensor)
    return torch.cat(rows, dim=0)


def alpha_entropy(alphas: Mapping[str, object]) -> float:
    """Mean entropy (nats) of softmax(α) over all edges of all cell types: log(#ops) at the
    uniform start, falling towards 0 as α commits to one op per edge."""
    logp = torch.log_softmax(_alpha_rows(alphas), dim=-1)
    entropy = -(logp.exp() * logp).sum(dim=-1).mean().item()
    return float(entropy) if math.isfinite(entropy) else float("nan")
