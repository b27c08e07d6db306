"""The αDARTS search objective: supernet + MIM head, L = CE + mim_weight * L_rec.

One module owns both halves so that a step (and `torch.func.functional_call` in the
second-order step) sees one set of weights: the supernet's weights plus the decoder's,
trained together, and the α, trained alone.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from trainables.config import MimConfig
from trainables.mim import MimHead, full_precision


class Loss(NamedTuple):
    total: torch.Tensor
    ce: torch.Tensor
    reconstruction: torch.Tensor  # 0 where the step adds no MIM term
    logits: torch.Tensor


class SearchObjective(nn.Module):
    def __init__(self, supernet: nn.Module, mim: MimConfig, seed: int):
        super().__init__()
        self.supernet = supernet
        self.mim_config = mim
        self.mim: MimHead | None = None
        if mim.enabled:
            # Built on a forked RNG so that building the decoder does not shift the global
            # stream: `enabled=false` and `mask_ratio=0` then give bitwise the same search.
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed + 7919)
                self.mim = MimHead(mim, supernet.feature_channels, supernet.feature_stride)

    def arch_parameters(self) -> list[nn.Parameter]:
        return list(self.supernet.arch_parameters())

    def weight_parameters(self) -> list[nn.Parameter]:
        params = list(self.supernet.weight_parameters())
        if self.mim is not None:
            params += list(self.mim.parameters())
        return params

    def uses_mim(self, phase: str) -> bool:
        """Whether the `phase` ("weights" or "alpha") step adds the reconstruction loss."""
        return self.mim is not None and self.mim_config.active and phase in self.mim_config.phases

    def trains_decoder_alone(self) -> bool:
        """MIM in the α step only: the weight step adds no reconstruction term, yet the
        decoder must still learn, or α would be pushed through a decoder frozen at its
        random init. The weight step then trains the decoder alone (`decoder_loss`)."""
        return self.uses_mim("alpha") and not self.uses_mim("weights")

    def sample_mask(self, x: torch.Tensor, phase: str) -> torch.Tensor | None:
        """The patch mask of a `phase` step, or None where that step sees clean images only.
        The weight step draws one also when it trains the decoder alone."""
        needed = self.uses_mim(phase) or (phase == "weights" and self.trains_decoder_alone())
        return self.mim.sample_mask(x) if needed else None

    def decoder_loss(self, x: torch.Tensor, patch_mask: torch.Tensor) -> torch.Tensor:
        """Reconstruction loss on detached features of a masked forward: its gradient
        reaches the decoder only (the supernet, α and the fill token get none)."""
        assert self.mim is not None
        with torch.no_grad():
            _, features = self.supernet(self.mim.apply_mask(x, patch_mask))
        return self.mim.reconstruction_loss(features.detach(), x, patch_mask)

    def forward(
        self, x: torch.Tensor, y: torch.Tensor, patch_mask: torch.Tensor | None = None
    ) -> Loss:
        """Loss on one batch; with `patch_mask` the supernet sees the masked image once and
        its last feature map feeds both the classifier and the decoder."""
        if patch_mask is None:
            logits, _ = self.supernet(x)
            ce = F.cross_entropy(full_precision(logits), y)
            return Loss(ce, ce, ce.new_zeros(()), logits)
        assert self.mim is not None
        logits, features = self.supernet(self.mim.apply_mask(x, patch_mask))
        ce = F.cross_entropy(full_precision(logits), y)
        rec = self.mim.reconstruction_loss(features, x, patch_mask)
        return Loss(ce + self.mim_config.mim_weight * rec, ce, rec, logits)
