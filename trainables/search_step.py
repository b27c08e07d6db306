"""One bilevel search step: the α step on an α-split batch, then the weight step on a
weight-split batch. The search loop and `alphadarts bench` both run exactly this code.

The α step asks autograd for α gradients only, and the weight step back-propagates into the
weights only: neither pays for the other's parameter gradients (for the convolutions that is
the weight-gradient half of their backward pass).

A step reads one value on the host, once: both losses, for the finiteness check, before the
weight step's backward. On a GPU every host read waits for the device to finish what was
queued, so the loop reads nothing else per step (tests/unit/test_host_syncs.py counts).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from trainables.config import OptimConfig
from trainables.distributed import Collective
from trainables.errors import NonFiniteLossError
from trainables.objective import Loss, SearchObjective
from trainables.second_order import unrolled_alpha_gradients


@dataclass
class SearchStep:
    objective: SearchObjective
    w_opt: torch.optim.Optimizer
    a_opt: torch.optim.Optimizer
    optim: OptimConfig
    order: str = "first"
    collective: Collective = Collective()
    bf16: bool = False
    forward: nn.Module | None = None  # the (optionally compiled) objective; default: objective

    def __post_init__(self):
        if self.forward is None:  # (an OptimizedModule has no truth value: `or` raised TypeError)
            self.forward = self.objective
        self.weights = self.objective.weight_parameters()
        self.alphas = self.objective.arch_parameters()
        self._alpha_loss: tuple[tuple[int, int], torch.Tensor] | None = None

    def sample_masks(self, xa, xw) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """(α-step mask, weight-step mask), drawn once per step: a second-order α step's
        virtual weight step uses the very mask (and batch) of the real weight step after it."""
        return self.objective.sample_mask(xa, "alpha"), self.objective.sample_mask(xw, "weights")

    def alpha_step(self, xa, ya, mask_a, xw, yw, mask_w, where: tuple[int, int] = (0, 0)) -> Loss | None:
        """Update α. Returns the α-batch loss for first order, None for second order (whose
        α-split loss is at the virtual weights). Its loss is checked for finiteness by the
        weight step that follows: a non-finite α loss has updated α by then, and the search
        stops there all the same, naming the α step."""
        with self._autocast(xa):
            if self.order == "first":
                loss = self.forward(xa, ya, mask_a)
                checked = loss.total
                # an α key with no cell to act in (DARTS with fewer than 3 cells has no normal
                # cell) gets a zero gradient, as in second order (and every rank holds one
                # for the all-reduce)
                grads = torch.autograd.grad(loss.total, self.alphas, allow_unused=True)
                grads = [torch.zeros_like(a) if g is None else g for a, g in zip(self.alphas, grads)]
            else:
                lr = self.w_opt.param_groups[0]["lr"]
                buffers = [self.w_opt.state.get(p, {}).get("momentum_buffer") for p in self.weights]
                grads, val_loss = unrolled_alpha_gradients(
                    self.objective, (xw, yw, self._mim_mask(mask_w)), (xa, ya, mask_a), lr, buffers,
                    self.optim.w_momentum, self.optim.w_weight_decay, collective=self.collective,
                )
                checked, loss = val_loss, None
        # checked with the weight step's loss, in that step's one host read
        self._alpha_loss = (where, checked.detach())
        for a, g in zip(self.alphas, grads):
            a.grad = g
        self.collective.average_gradients(self.alphas)
        self.a_opt.step()
        self.a_opt.zero_grad(set_to_none=True)
        return loss

    def weights_step(self, xw, yw, mask_w, where: tuple[int, int] = (0, 0)) -> Loss:
        """Update the supernet's and the decoder's weights. Where only the α step uses MIM,
        the decoder alone also learns here, from the reconstruction of `mask_w`."""
        with self._autocast(xw):
            loss = self.forward(xw, yw, self._mim_mask(mask_w))
            if self.objective.trains_decoder_alone():
                rec = self.objective.decoder_loss(xw, mask_w)
                total = loss.total + self.objective.mim_config.mim_weight * rec
                loss = Loss(total, loss.ce, rec, loss.logits)
        self._check_finite(where, loss.total)
        loss.total.backward(inputs=self.weights)
        self.collective.average_gradients(self.weights)
        nn.utils.clip_grad_norm_(self.weights, self.optim.grad_clip)
        self.w_opt.step()
        self.w_opt.zero_grad(set_to_none=True)
        return loss

    def _check_finite(self, where: tuple[int, int], weights_loss: torch.Tensor) -> None:
        """Both losses of the step in one host read (NonFiniteLossError names the first
        non-finite one: the α step's, else the weight step's)."""
        checks = [] if self._alpha_loss is None else [("alpha", *self._alpha_loss)]
        checks.append(("weights", where, weights_loss.detach()))
        self._alpha_loss = None
        values = torch.stack([loss.float() for _, _, loss in checks]).tolist()  # the step's one sync
        for (phase, at, _), value in zip(checks, values):
            if not math.isfinite(value):
                raise NonFiniteLossError(at[0] + 1, at[1], phase, value)

    def _mim_mask(self, mask_w: torch.Tensor | None) -> torch.Tensor | None:
        """The weight-step mask where the weight loss itself adds the MIM term, else None."""
        return mask_w if self.objective.uses_mim("weights") else None

    def _autocast(self, x: torch.Tensor):
        return torch.autocast(device_type=x.device.type, dtype=torch.bfloat16, enabled=self.bf16)


def build_optimisers(objective: SearchObjective, optim: OptimConfig, epochs: int):
    """DARTS's optimisers: SGD + cosine schedule for weights, Adam for α."""
    w_opt = torch.optim.SGD(
        objective.weight_parameters(), optim.w_lr, momentum=optim.w_momentum,
        weight_decay=optim.w_weight_decay,
    )
    a_opt = torch.optim.Adam(
        objective.arch_parameters(), optim.alpha_lr, betas=optim.alpha_betas,
        weight_decay=optim.alpha_weight_decay,
    )
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(w_opt, float(epochs), eta_min=optim.w_lr_min)
    return w_opt, a_opt, schedule
