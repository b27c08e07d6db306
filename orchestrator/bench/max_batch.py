"""`alphadarts bench --max-batch`: the largest per-worker batch whose search step fits the
device, without and with activation checkpointing, so a user knows before a sweep what fits.

The search (`largest_fitting`) only asks a yes/no predicate, so it is tested with an injected
one; on CUDA the predicate runs two full search steps of the config (its order, MIM and GPU
switches; the second step carries the optimisers' state) and answers False on an
out-of-memory error, emptying the allocator's cache after every try.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from search_space import build_supernet
from trainables.distributed import Collective
from trainables.objective import SearchObjective
from trainables.search_step import SearchStep, build_optimisers

#: no batch above this is tried (a bound for the doubling, far beyond any GPU's reach here)
BATCH_LIMIT = 1 << 16


@dataclass
class FitSearch:
    """The answer: `largest` (0 when even a batch of 1 does not fit) and every try made."""

    largest: int = 0
    tried: list[tuple[int, bool]] = field(default_factory=list)


def largest_fitting(fits: Callable[[int], bool], start: int = 1, limit: int = BATCH_LIMIT) -> FitSearch:
    """The largest batch b in [1, limit] with fits(b), assuming fitting is monotone: from
    `start`, double while it fits, then bisect between the last fit and the first failure
    (if `start` itself fails, bisect between 0 and it)."""
    if not 1 <= start <= limit:
        raise ValueError(f"start={start}: must be in [1, {limit}]")
    search = FitSearch()

    def tried(batch: int) -> bool:
        ok = bool(fits(batch))
        search.tried.append((batch, ok))
        return ok

    lo, hi = 0, start  # invariant: lo fits (or is 0), hi does not (or is untried: limit + 1)
    if tried(start):
        lo, hi = start, limit + 1
        while lo < limit:
            nxt = min(2 * lo, limit)
            if not tried(nxt):
                hi = nxt
                break
            lo = nxt
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if tried(mid):
            lo = mid
        else:
            hi = mid
    search.largest = lo
    return search


def cuda_fits(spec, mode: str, peaks: dict[int, int]) -> Callable[[int], bool]:
    """fits(batch): two search steps of `spec.search` at `batch` with `mode` checkpointing on
    `spec.device` run without running out of memory; records each fit's peak bytes."""
    cfg = spec.search
    device = torch.device(spec.device)
    layout = torch.channels_last if cfg.runtime.channels_last else torch.contiguous_format

    def two_steps(batch: int) -> int:
        """Peak bytes of two steps at `batch`; everything it built dies with its frame."""
        torch.manual_seed(cfg.seed)
        supernet = build_supernet(cfg.model.space, cfg.data.num_classes, cfg.model.channels, cfg.model.layers)
        supernet.set_activation_checkpointing(mode)
        objective = SearchObjective(supernet, cfg.mim, cfg.seed).to(device, memory_format=layout)
        w_opt, a_opt, _ = build_optimisers(objective, cfg.optim, cfg.epochs)
        step = SearchStep(objective, w_opt, a_opt, cfg.optim, cfg.order, Collective(device=device),
                          cfg.runtime.bf16, forward=torch.compile(objective) if cfg.runtime.compile else None)
        torch.cuda.reset_peak_memory_stats(device)
        size = spec.image_size
        for _ in range(2):
            xa, xw = (torch.randn(batch, 3, size, size, device=device).contiguous(memory_format=layout)
                      for _ in range(2))
            ya, yw = (torch.randint(0, cfg.data.num_classes, (batch,), device=device) for _ in range(2))
            mask_a, mask_w = step.sample_masks(xa, xw)
            step.alpha_step(xa, ya, mask_a, xw, yw, mask_w)
            step.weights_step(xw, yw, mask_w)
        torch.cuda.synchronize(device)
        return torch.cuda.max_memory_allocated(device)

    def fits(batch: int) -> bool:
        try:
            peaks[batch] = two_steps(batch)
            ok = True
        except torch.cuda.OutOfMemoryError:
            ok = False  # the traceback (and the tensors its frames hold) is dropped here
        gc.collect()
        torch.cuda.empty_cache()
        return ok

    return fits


def max_batch_report(spec, fits_for: Callable = cuda_fits) -> dict:
    """The largest batch for no checkpointing and for each of `spec.checkpointing`'s modes."""
    cfg = spec.search
    out: dict = {
        "config": {"space": cfg.model.space, "channels": cfg.model.channels, "layers": cfg.model.layers,
                   "image_size": spec.image_size, "order": cfg.order, "device": spec.device,
                   "device_name": torch.cuda.get_device_name(spec.device) if spec.device.startswith("cuda") else "cpu",
                   "bf16": cfg.runtime.bf16, "channels_last": cfg.runtime.channels_last,
                   "compile": cfg.runtime.compile},
        "mim": cfg.mim.active,
        "largest_batch": {},
    }
    for mode in ("none", *(m for m in spec.checkpointing if m != "none")):
        peaks: dict[int, int] = {}
        found = largest_fitting(fits_for(spec, mode, peaks), start=cfg.data.batch_size)
        out["largest_batch"][mode] = {
            "batch_size": found.largest, "peak_mem_mb": peaks.get(found.largest, 0) / 2**20,
            "tries": len(found.tried), "tried": found.tried,
        }
    return out
