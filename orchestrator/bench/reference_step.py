"""The straightforward DARTS search step, kept as the baseline `alphadarts bench` times against.

As in DARTS's own code: the α step calls a full `loss.backward()` (which also fills weight
gradients that are then thrown away), the weight step another full backward; the supernet is
`orchestrator.bench.reference_supernet`'s copy (every op of every edge computed, NCHW). The project's
`SearchStep` must give the same α gradients and weight updates, faster.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from trainables.config import OptimConfig
from trainables.objective import SearchObjective


@dataclass
class ReferenceStep:
    objective: SearchObjective
    w_opt: torch.optim.Optimizer
    a_opt: torch.optim.Optimizer
    optim: OptimConfig

    def alpha_step(self, xa, ya):
        self.a_opt.zero_grad(set_to_none=True)
        loss = self.objective(xa, ya, self.objective.sample_mask(xa, "alpha"))
        loss.total.backward()
        self.a_opt.step()
        return loss

    def weights_step(self, xw, yw):
        self.w_opt.zero_grad(set_to_none=True)
        loss = self.objective(xw, yw, self.objective.sample_mask(xw, "weights"))
        loss.total.backward()
        nn.utils.clip_grad_norm_(self.objective.weight_parameters(), self.optim.grad_clip)
        self.w_opt.step()
        return loss
