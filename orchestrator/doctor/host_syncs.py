"""Counting the host reads of device values in a stretch of code: every `item()`,
`tolist()`, `float(t)`, `int(t)` and `bool(t)` of a tensor.

Why: on a GPU each such read waits until the device has run everything queued before it, so
the host stops queueing work and the device then idles while the host catches up. The search
step reads one value per step (its finiteness check); the doctor and
tests/unit/test_host_syncs.py count, so that a new read in the hot loop shows.

What is not counted: tensors on another device than the one computed on (on a GPU, CPU
tensors are no sync) and the optimisers' `step` counters, which PyTorch keeps on the host
for exactly this reason (Adam reads its own each step; on a CPU-only run they share the
device, so they are told apart by identity).
"""

from __future__ import annotations

import traceback
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch

#: the Tensor methods that copy a value to the host (and wait for the device to have it)
READS = ("item", "tolist", "__float__", "__int__", "__bool__")


@dataclass
class HostReads:
    """The reads seen: one (method, where in the project's code) per read."""

    seen: list[tuple[str, str]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.seen)

    def where(self) -> list[str]:
        return [f"{method} at {place}" for method, place in self.seen]


def optimiser_step_counters(optimisers: Iterable[torch.optim.Optimizer]):
    """A callable giving the ids of the optimisers' host-side `step` tensors, read when
    asked (an optimiser creates its state at its first step)."""
    optimisers = list(optimisers)

    def ids() -> set[int]:
        return {id(s["step"]) for o in optimisers for s in o.state.values() if torch.is_tensor(s.get("step"))}

    return ids


@contextmanager
def count_host_reads(device: torch.device, ignore=lambda: set()) -> Iterator[HostReads]:
    """Count the host reads of tensors on `device` while the block runs; `ignore()` gives
    ids of tensors not to count (optimiser_step_counters)."""
    reads = HostReads()
    originals = {name: getattr(torch.Tensor, name) for name in READS}

    def counting(name: str, original):
        def read(self, *args, **kwargs):
            if self.device.type == device.type and id(self) not in ignore():
                reads.seen.append((name, _caller()))
            return original(self, *args, **kwargs)

        return read

    for name, original in originals.items():
        setattr(torch.Tensor, name, counting(name, original))
    try:
        yield reads
    finally:
        for name, original in originals.items():
            setattr(torch.Tensor, name, original)


def _caller() -> str:
    """The innermost frame of this project's code (or of torch, if none) that read."""
    frames = traceback.extract_stack()[:-2]
    ours = [f for f in frames if "/host_syncs.py" not in f.filename and "/site-packages/" not in f.filename]
    frame = (ours or frames)[-1]
    return f"{'/'.join(frame.filename.split('/')[-2:])}:{frame.lineno}"
