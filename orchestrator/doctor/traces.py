"""A few steps of the search or of the retrain under one set of runtime switches, recorded
for the comparison with the fp32 eager steps (`Trace`): every step's loss, the first step's
gradients, the step times, the peak device memory and the host reads per step.

The steps are the project's own: `trainables.search_model` builds the objective and the
`SearchStep` as a search does, `trainables.train_loop.train_step` is the retrain's step.
Every run of a kind starts from the same weights (seeded), reads the same batches and, in
the search, the same MIM masks (the global RNG seeded before each step's masks), so what
differs is what the switches change.
"""

from __future__ import annotations

import gc
import statistics
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch

from orchestrator.doctor.host_syncs import count_host_reads, optimiser_step_counters
from search_space import PUBLISHED_GENOTYPES, build_network
from trainables.config import SearchConfig
from trainables.distributed import Collective
from trainables.search_model import build_search_objective, build_search_step, memory_format
from trainables.search_step import build_optimisers
from trainables.train_config import TrainConfig
from trainables.train_loop import build_optimiser, train_step

#: the genotype the retrain steps train (any would do: the switches act on every op alike)
RETRAIN_GENOTYPE = "DARTS_V2"
#: the batches' seed; each step's masks are drawn after torch.manual_seed(MASK_SEED + step)
BATCH_SEED, MASK_SEED = 11, 1000


@dataclass
class Trace:
    losses: list[float] = field(default_factory=list)  # per step (search: α loss then weight loss)
    grads: dict[str, torch.Tensor] = field(default_factory=dict)  # the first step's, flat, on CPU
    times: list[float] = field(default_factory=list)  # seconds per step, after the warm-up
    first_step_s: float = 0.0
    peak_mem_mb: float | None = None  # CUDA only
    host_reads_per_step: float | None = None  # None: a single step, not counted
    read_places: list[str] = field(default_factory=list)

    def step_ms(self) -> float:
        return statistics.median(self.times) * 1e3

    def compile_s(self) -> float:
        """The first step's time beyond a warm step's: compiling it, where compiled."""
        return max(self.first_step_s - statistics.median(self.times), 0.0)


def search_trace(cfg: SearchConfig, device: torch.device, image_size: int, steps: int, warmup: int,
                 tf32: bool = False) -> Trace:
    """`warmup` + `steps` search steps (α step + weight step) of `cfg` on `device`."""
    with _device_scope(device, tf32) as trace:
        torch.manual_seed(cfg.seed)
        objective = build_search_objective(cfg, device)
        w_opt, a_opt, _ = build_optimisers(objective, cfg.optim, cfg.epochs)
        step = build_search_step(cfg, objective, w_opt, a_opt, Collective(device=device))
        grads = _first_gradients({"alpha": a_opt, "weights": w_opt})
        batches = _batches(cfg.data.batch_size, cfg.data.num_classes, image_size, 2, device,
                           cfg.runtime.channels_last)
        losses = []

        def one(i: int):
            xa, ya, xw, yw = batches
            torch.manual_seed(MASK_SEED + i)
            mask_a, mask_w = step.sample_masks(xa, xw)
            loss_a = step.alpha_step(xa, ya, mask_a, xw, yw, mask_w, where=(0, i))
            loss_w = step.weights_step(xw, yw, mask_w, where=(0, i))
            losses.extend(([] if loss_a is None else [loss_a.total.detach()]) + [loss_w.total.detach()])

        _run(trace, one, steps, warmup, device, optimiser_step_counters([w_opt, a_opt]))
        trace.losses = torch.stack(losses).float().cpu().tolist()
        trace.grads = {k: v.cpu() for k, v in grads.items()}
    return trace


def retrain_trace(cfg: TrainConfig, device: torch.device, image_size: int, steps: int, warmup: int,
                  tf32: bool = False) -> Trace:
    """`warmup` + `steps` retrain steps of `cfg` (genotype RETRAIN_GENOTYPE) on `device`."""
    with _device_scope(device, tf32) as trace:
        torch.manual_seed(cfg.seed)
        net = build_network(cfg.space, PUBLISHED_GENOTYPES[RETRAIN_GENOTYPE], cfg.data.num_classes,
                            cfg.model.channels, cfg.model.layers, auxiliary=cfg.model.auxiliary,
                            family=cfg.data.network)
        net.drop_path_prob = 0.0  # drop path draws at random: off, so that runs compare
        net.to(device, memory_format=memory_format(cfg.runtime.channels_last))
        optimiser, _ = build_optimiser(net, cfg.optim, cfg.epochs)
        grads = _first_gradients({"weights": optimiser})
        x, y = _batches(cfg.data.batch_size, cfg.data.num_classes, image_size, 1, device,
                        cfg.runtime.channels_last)
        losses = []

        def one(i: int):
            loss, _ = train_step(net, net, optimiser, x, y, cfg)
            losses.append(loss.detach())

        _run(trace, one, steps, warmup, device, optimiser_step_counters([optimiser]))
        trace.losses = torch.stack(losses).float().cpu().tolist()
        trace.grads = {k: v.cpu() for k, v in grads.items()}
    return trace


def _run(trace: Trace, one, steps: int, warmup: int, device: torch.device, ignore) -> None:
    """Time each step (the device synchronised around it); count the host reads of the
    steps after the first, once whatever is compiled is compiled."""
    counted = reads_total = 0
    for i in range(warmup + steps):
        _sync(device)
        start = time.perf_counter()
        if i < max(warmup, 1):
            one(i)
        else:
            with count_host_reads(device, ignore) as reads:
                one(i)
            counted, reads_total = counted + 1, reads_total + len(reads)
            trace.read_places += [p for p in reads.where() if p not in trace.read_places]
        _sync(device)
        elapsed = time.perf_counter() - start
        if i == 0:
            trace.first_step_s = elapsed
        if i >= warmup:
            trace.times.append(elapsed)
    trace.host_reads_per_step = reads_total / counted if counted else None


def _first_gradients(optimisers: dict) -> dict[str, torch.Tensor]:
    """Filled at each optimiser's first step (a step pre-hook): its parameters' gradients as
    the step applies them (averaged and clipped), flattened in logical order, as float32."""
    captured: dict[str, torch.Tensor] = {}

    def hook_for(name: str):
        def hook(optimiser, args, kwargs):
            if name not in captured:
                params = [p for group in optimiser.param_groups for p in group["params"]]
                captured[name] = torch.cat([
                    (torch.zeros_like(p) if p.grad is None else p.grad).detach().float().flatten()
                    for p in params])
        return hook

    for name, optimiser in optimisers.items():
        optimiser.register_step_pre_hook(hook_for(name))
    return captured


def _batches(batch: int, classes: int, size: int, count: int, device: torch.device, channels_last: bool):
    """`count` fixed (images, labels) pairs, flattened: the same in every run."""
    g = torch.Generator().manual_seed(BATCH_SEED)
    out = []
    for _ in range(count):
        x = torch.randn(batch, 3, size, size, generator=g).to(device)
        out += [x.contiguous(memory_format=memory_format(channels_last)),
                torch.randint(0, classes, (batch,), generator=g).to(device)]
    return out


@contextmanager
def _device_scope(device: torch.device, tf32: bool):
    """TF32 as asked (off: true fp32), the peak-memory counter reset, and everything freed
    afterwards (also Dynamo's caches: each compiled run compiles afresh, and the recompile
    limit is not reached across runs)."""
    before = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = tf32
    trace = Trace()
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
    try:
        yield trace
        if device.type == "cuda":
            trace.peak_mem_mb = torch.cuda.max_memory_allocated(device) / 2**20
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = before
        torch._dynamo.reset()
        gc.collect()
        if device.type == "cuda":
            torch.cuda.empty_cache()


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
