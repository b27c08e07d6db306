"""What the search loop needs from a process group, and nothing more.

The search does not wrap the model in DDP: its two steps back-propagate into disjoint
parameter sets (α alone, weights + decoder alone) and the α step asks autograd for α
gradients only, which DDP's hooks do not follow. Instead, after each backward the gradients
of the parameters that step updates are averaged with one flat all-reduce. Every rank starts
from rank 0's parameters and applies the same averaged update, so α (and the weights) stay
identical on every rank.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn
from torch._utils import _flatten_dense_tensors, _unflatten_dense_tensors


@dataclass(frozen=True)
class Collective:
    rank: int = 0
    world_size: int = 1
    device: torch.device = torch.device("cpu")

    @classmethod
    def current(cls, device: torch.device | None = None) -> "Collective":
        """The process group set up by Ray Train (or a test), else a single process."""
        device = device or torch.device("cpu")
        if dist.is_available() and dist.is_initialized():
            return cls(dist.get_rank(), dist.get_world_size(), device)
        return cls(0, 1, device)

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def broadcast_module(self, module: nn.Module) -> None:
        """Make every rank start from rank 0's parameters and buffers."""
        if self.world_size == 1:
            return
        for tensor in list(module.parameters()) + list(module.buffers()):
            dist.broadcast(tensor.data, src=0)

    def average_gradients(self, params: list[nn.Parameter]) -> None:
        self._average_in_place([p.grad for p in params if p.grad is not None])

    def average_tensors(self, tensors: list[torch.Tensor]) -> None:
        """Average same-shaped tensors over ranks, in place."""
        self._average_in_place(tensors)

    def average_buffers(self, module: nn.Module) -> None:
        """Average BN running statistics over ranks (each rank normalises its own batches
        during the epoch, as DARTS does; the α-split evaluation and the checkpoint then see
        one set of statistics, so a resumed run continues exactly like an uninterrupted one)."""
        self._average_in_place([b for b in module.buffers() if b.is_floating_point()])

    def _average_in_place(self, tensors: list[torch.Tensor]) -> None:
        """One flat all-reduce for many small tensors, then copied back."""
        if self.world_size == 1 or not tensors:
            return
        flat = _flatten_dense_tensors(tensors)
        dist.all_reduce(flat)
        flat /= self.world_size
        for tensor, synced in zip(tensors, _unflatten_dense_tensors(flat, tensors)):
            tensor.copy_(synced)

    def sum(self, values: list[float]) -> list[float]:
        """Element-wise sum over ranks (float64, so counts stay exact)."""
        if self.world_size == 1:
            return list(values)
        t = torch.tensor(values, dtype=torch.float64, device=self.device)
        dist.all_reduce(t)
        return t.tolist()

    def gather_objects(self, obj) -> list:
        """Every rank's `obj`, in rank order (on every rank)."""
        if self.world_size == 1:
            return [obj]
        out: list = [None] * self.world_size
        dist.all_gather_object(out, obj)
        return out
