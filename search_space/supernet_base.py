"""What every supernet shares: α as registered parameters, kept apart from the weights.

α being `nn.Parameter`s registered on the module means `state_dict()` and checkpoints carry
them; `arch_parameters()` / `weight_parameters()` partition `parameters()` so the two
optimisers never share a tensor.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import nn

from search_space.alphas import check_alphas
from search_space.catalog import CHECKPOINT_MODES
from search_space.checkpointing import call_maybe_recomputed
from search_space.errors import SearchSpaceError


class Supernet(nn.Module):
    """Base class; subclasses set `space` (the name), `alpha_shapes` and `derive` (their
    space's), `feature_channels`, `feature_stride`, and call `_init_alphas()` after building
    their cells. forward(x) returns (logits, last feature map)."""

    space: str
    alpha_shapes: Mapping[str, tuple[int, int]]
    #: checked float64 α -> genotype (a staticmethod of the subclass)
    derive: Callable[[Mapping[str, torch.Tensor]], Any]
    feature_channels: int
    feature_stride: int

    def _init_alphas(self) -> None:
        """α ~ 1e-3 * N(0, 1) from torch's global RNG, one attribute `alphas_<key>` per key."""
        for key, shape in self.alpha_shapes.items():
            self.register_parameter(f"alphas_{key}", nn.Parameter(1e-3 * torch.randn(*shape)))

    def _alpha_params(self) -> dict[str, nn.Parameter]:
        return {key: getattr(self, f"alphas_{key}") for key in self.alpha_shapes}

    def arch_parameters(self) -> list[nn.Parameter]:
        """The α, for the architecture optimiser."""
        return list(self._alpha_params().values())

    def weight_parameters(self) -> list[nn.Parameter]:
        """Every parameter except α, for the weight optimiser."""
        arch = {id(p) for p in self.arch_parameters()}
        return [p for p in self.parameters() if id(p) not in arch]

    def alphas(self) -> dict[str, torch.Tensor]:
        """Detached copies of α, keyed as α files are ({"normal", "reduce"} or {"cell"})."""
        return {key: p.detach().clone() for key, p in self._alpha_params().items()}

    @torch.no_grad()
    def set_alphas(self, alphas: dict[str, torch.Tensor]) -> None:
        """Overwrite α in place (shapes checked), e.g. from an α file."""
        for key, value in check_alphas(self.space, self.alpha_shapes, alphas).items():
            param = self._alpha_params()[key]
            param.copy_(value.to(dtype=param.dtype, device=param.device))

    def op_weights(self) -> dict[str, torch.Tensor]:
        """softmax(α) per edge, keyed like `alphas()`: the only place the mixing weights are
        computed, once per forward."""
        return {key: torch.softmax(p, dim=-1) for key, p in self._alpha_params().items()}

    def set_activation_checkpointing(self, mode: str) -> None:
        """Recompute activations in backward instead of keeping them (search_space.checkpointing):
        per search cell (`cells`), per cell of the first stage (`first_stage`), per mixed edge
        (`mixed_ops`), or not at all (`none`). `run_cell` and the cells' `run_edge` read the
        flags set here (on the cells, so that copies of the supernet keep them)."""
        if mode not in CHECKPOINT_MODES:
            raise SearchSpaceError(
                f"activation_checkpointing={mode!r}: allowed: {', '.join(CHECKPOINT_MODES)}"
            )
        for module in self.modules():
            if isinstance(module, SearchCell):
                module.checkpoint_edges = mode == "mixed_ops"
                module.recompute = mode == "cells"
        if mode == "first_stage":
            for cell in self.first_stage_cells():
                cell.recompute = True

    def first_stage_cells(self) -> list[nn.Module]:
        """The search cells that read the stem's full-resolution output (a space's own rule):
        per unit of compute they keep the most activations."""
        allowed = ", ".join(m for m in CHECKPOINT_MODES if m != "first_stage")
        raise SearchSpaceError(f"activation_checkpointing=first_stage: the {self.space} space does not "
                               f"say which cells are its first stage; allowed here: {allowed}")

    def run_cell(self, cell: "SearchCell", *args: torch.Tensor) -> torch.Tensor:
        """`cell(*args)`, recomputed in backward where the checkpointing mode marks the cell."""
        return call_maybe_recomputed(cell.recompute, cell, *args)

    def genotype(self) -> Any:
        """The discrete cell(s) the current α select (the space's rules)."""
        return self.derive(check_alphas(self.space, self.alpha_shapes, self.alphas()))


class SearchCell(nn.Module):
    """Base of a space's search cell: `run_edge` calls a mixed edge, recomputed in backward
    under `mixed_ops` checkpointing (the supernet sets `checkpoint_edges`, and `recompute`
    where the whole cell is recomputed)."""

    checkpoint_edges: bool = False
    recompute: bool = False

    def run_edge(self, edge: nn.Module, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        return call_maybe_recomputed(self.checkpoint_edges, edge, x, weights)
