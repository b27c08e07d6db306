"""α as data: the shape check every α passes once, the tie-breaking argmax the derivation
rules share, and the α-entropy collapse signal with its companion, the mean top weight.

Softmax is taken in float64 (the checked copies are float64) so that distinct α rarely
become ties by rounding; ties are broken deterministically, the lowest index winning.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import torch

from search_space.errors import SearchSpaceError


def check_alphas(
    space: str, shapes: Mapping[str, tuple[int, int]], alphas: object
) -> dict[str, torch.Tensor]:
    """Check keys, shapes, numeric type and finiteness against `shapes` (the α shapes of
    `space`); return float64 CPU copies keyed as α files are."""
    if not isinstance(alphas, Mapping):
        raise SearchSpaceError(
            f"alphas {type(alphas).__name__} is not a mapping; expected keys {sorted(shapes)}."
        )
    if set(alphas) != set(shapes):
        raise SearchSpaceError(
            f"alphas keys {sorted(map(str, alphas))} do not match the {space} space; "
            f"expected exactly {sorted(shapes)}."
        )
    checked = {}
    for key, shape in shapes.items():
        try:
            tensor = torch.as_tensor(alphas[key]).detach()
        except (TypeError, ValueError, RuntimeError) as exc:
            raise SearchSpaceError(
                f"alpha {key!r} is not a numeric matrix ({exc}); expected shape {shape}."
            ) from None
        if tensor.dtype == torch.bool or tensor.is_complex():
            raise SearchSpaceError(
                f"alpha {key!r} holds {tensor.dtype} values; expected real numbers, shape {shape}."
            )
        if tuple(tensor.shape) != shape:
            raise SearchSpaceError(
                f"alpha {key!r} has shape {tuple(tensor.shape)}; expected {shape} "
                f"(edges x ops, ops in the space's order)."
            )
        tensor = tensor.to(device="cpu", dtype=torch.float64)
        if not torch.isfinite(tensor).all():
            raise SearchSpaceError(
                f"alpha {key!r} contains NaN or infinite values; all must be finite."
            )
        checked[key] = tensor
    return checked


def argmax_first(values: list[float], skip: int | None = None) -> int:
    """Index of the largest value (lowest index on ties), ignoring index `skip`."""
    best = None
    for index, value in enumerate(values):
        if index != skip and (best is None or value > values[best]):
            best = index
    assert best is not None
    return best


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
