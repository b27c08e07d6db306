"""`alphadarts bench --max-batch`: the largest per-worker batch whose search epoch fits the
device, without and with activation checkpointing, so a user knows before a sweep what fits.

The search (`largest_fitting`) only asks a yes/no predicate, so it is tested with an injected
one. On CUDA the predicate (`device_fits`) runs at that batch what a search epoch holds at
its fullest: two full search steps of the config (its order, MIM and GPU switches, the model
built by the search's own `trainables.search_model`, so SyncBatchNorm, layout and compile as
configured; the second step carries the optimisers' state), then the clean passes (the
BatchNorm re-estimate and the evaluation, no grad, at max(batch, CLEAN_PASS_BATCH) images).
Any allocation failure answers False (`is_allocation_failure`: the allocator's
OutOfMemoryError, cuDNN's and cuBLAS's RuntimeErrors, and either wrapped by torch.compile's
compilation); any other error is a bug and is raised. The allocator's cache is emptied after
every try, and with compile on, Dynamo's caches too (each try compiles afresh: otherwise
tries past Dynamo's recompile limit would silently run eagerly, and a changed batch would be
compiled with a dynamic batch dimension that the search, at one batch, does not use).
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from trainables.config import SearchConfig
from trainables.distributed import Collective
from trainables.objective import SearchObjective
from trainables.search_loop import CLEAN_PASS_BATCH
from trainables.search_model import build_search_objective, build_search_step, memory_format
from trainables.search_step import build_optimisers

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


#: what an allocation failure says when it comes as a plain RuntimeError: cuDNN and cuBLAS
#: report theirs by status code ("cuDNN error: CUDNN_STATUS_ALLOC_FAILED", "CUDA error:
#: CUBLAS_STATUS_ALLOC_FAILED when calling cublasCreate"), the driver as "out of memory"
ALLOCATION_FAILURES = ("out of memory", "CUDNN_STATUS_ALLOC_FAILED", "CUBLAS_STATUS_ALLOC_FAILED")


def is_allocation_failure(exc: BaseException) -> bool:
    """Whether `exc`, or an error it wraps, is the device running out of memory. torch.compile
    wraps what fails in its compilation (BackendCompilerFailed, InductorError) and keeps the
    original as `inner_exception` or `__cause__`: both are followed."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        error = pending.pop()
        if error is None or id(error) in seen:
            continue
        seen.add(id(error))
        if isinstance(error, torch.cuda.OutOfMemoryError):
            return True
        if isinstance(error, RuntimeError) and any(text in str(error) for text in ALLOCATION_FAILURES):
            return True
        pending += [error.__cause__, getattr(error, "inner_exception", None)]
    return False


def device_fits(spec, mode: str, peaks: dict[int, int]) -> Callable[[int], bool]:
    """fits(batch): two search steps of `spec.search` with `mode` checkpointing and the clean
    passes at `batch` run on `spec.device` without an allocation failure; records each fit's
    peak bytes (CUDA; 0 elsewhere, where only the tests run it)."""
    cfg = _with_checkpointing(spec.search, mode)
    device = torch.device(spec.device)
    cuda = device.type == "cuda"

    def epoch_at(batch: int) -> int:
        """Peak bytes of two steps and the clean passes; all it built dies with its frame."""
        torch.manual_seed(cfg.seed)
        objective = build_search_objective(cfg, device)
        w_opt, a_opt, _ = build_optimisers(objective, cfg.optim, cfg.epochs)
        step = build_search_step(cfg, objective, w_opt, a_opt, Collective(device=device))
        if cuda:
            torch.cuda.reset_peak_memory_stats(device)
        for _ in range(2):
            xa, xw = (_images(cfg, batch, spec.image_size, device) for _ in range(2))
            ya, yw = (torch.randint(0, cfg.data.num_classes, (batch,), device=device) for _ in range(2))
            mask_a, mask_w = step.sample_masks(xa, xw)
            step.alpha_step(xa, ya, mask_a, xw, yw, mask_w)
            step.weights_step(xw, yw, mask_w)
        clean_passes(objective, cfg, _images(cfg, max(batch, CLEAN_PASS_BATCH), spec.image_size, device))
        if not cuda:
            return 0
        torch.cuda.synchronize(device)
        return torch.cuda.max_memory_allocated(device)

    def fits(batch: int) -> bool:
        if cfg.runtime.compile:
            torch._dynamo.reset()
        try:
            peaks[batch] = epoch_at(batch)
            ok = True
        except Exception as exc:  # the traceback (and the tensors its frames hold) dies here
            if not is_allocation_failure(exc):
                raise
            ok = False
        gc.collect()
        if cuda:
            torch.cuda.empty_cache()
        return ok

    return fits


@torch.no_grad()
def clean_passes(objective: SearchObjective, cfg: SearchConfig, x: torch.Tensor) -> None:
    """What the search loop runs after each epoch, at `x`'s batch: the supernet in train mode
    (the BatchNorm re-estimate) and in eval mode (the α-split evaluation), without gradients,
    under the step's autocast, while the weights and the optimisers' state are held."""
    with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=cfg.runtime.bf16):
        objective.supernet.train()
        objective.supernet(x)
        objective.supernet.eval()
        objective.supernet(x)
    objective.train()


def _images(cfg: SearchConfig, batch: int, size: int, device: torch.device) -> torch.Tensor:
    x = torch.randn(batch, 3, size, size, device=device)
    return x.contiguous(memory_format=memory_format(cfg.runtime.channels_last))


def _with_checkpointing(cfg: SearchConfig, mode: str) -> SearchConfig:
    return cfg.model_copy(update={"runtime": cfg.runtime.model_copy(update={"activation_checkpointing": mode})})


def max_batch_report(spec, fits_for: Callable = device_fits) -> dict:
    """The largest batch for no checkpointing and for each of `spec.checkpointing`'s modes."""
    cfg = spec.search
    out: dict = {
        "config": {"space": cfg.model.space, "channels": cfg.model.channels, "layers": cfg.model.layers,
                   "image_size": spec.image_size, "order": cfg.order, "device": spec.device,
                   "device_name": torch.cuda.get_device_name(spec.device) if spec.device.startswith("cuda") else "cpu",
                   "bf16": cfg.runtime.bf16, "channels_last": cfg.runtime.channels_last,
                   "compile": cfg.runtime.compile, "sync_bn": cfg.runtime.sync_bn},
        "mim": cfg.mim.active,
        "largest_batch": {},
    }
    for mode in ("none", *(m for m in spec.checkpointing if m != "none")):
        peaks: dict[int, int] = {}
        found = largest_fitting(fits_for(spec, mode, peaks), start=cfg.data.batch_size)
        out["largest_batch"][mode] = {
            "batch_size": found.largest, "peak_mem_mb": peaks.get(found.largest, 0) / 2**20,
            "clean_pass_batch": max(found.largest, CLEAN_PASS_BATCH),
            "tries": len(found.tried), "tried": found.tried,
        }
    return out
