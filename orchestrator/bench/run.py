"""Timing of the search step (`alphadarts bench`): ms per step, images/s, peak memory, MACs,
the fraction of the device's peak FLOP rate, and what that means for an epoch and a sweep.

Variants are timed interleaved (one step of each in turn, repeated, medians reported) so
that a loaded machine slows them alike. `plain` is the project's `SearchStep` without MIM,
`mim` with the config's MIM settings, `ckpt_<mode>` the plain step with activation
checkpointing (`search.runtime.activation_checkpointing`, one variant per mode asked for),
`reference` (on request) the straightforward DARTS step on the straightforward supernet
(`orchestrator.bench.reference_step`), same weights, same batches. `compare_layouts` adds
the plain step in the CPU layouts `plain` is not: `unguarded`, narrow 1x1 stride-2 convs
run strided in channels_last as before `search_space.strided_pointwise` (which oneDNN's
AVX2 kernel aborts on), and `nchw`, the supernet without channels_last on CPU. Each checkpointed variant
is also checked against `plain` on one batch before any step (loss, α and weight gradients,
BatchNorm running statistics: max |difference|, 0 where they agree to the last bit).

With compile (`--compile`, or `search.runtime.compile` in the config) `plain` and `mim` each
get a compiled twin (`plain+compile`, `mim+compile`: torch.compile of the same objective,
same weights and batches), timed interleaved with the eager ones; each twin's first step,
which compiles, is run and timed apart (`compile_s`) before any timed step.

Peak memory: on CUDA `torch.cuda.max_memory_allocated` during a step, minus what was
allocated before it. On CPU there is no allocator counter, so it is the bytes of the distinct
tensors autograd saves for backward in the larger of the step's two forward passes
(parameters excluded; deterministic; under checkpointing the segments' inputs, which the
checkpoint saves, count, and the activations recomputed one segment at a time in backward do
not), and, with `rss=True`, each variant is also run alone
in a fresh process and its `ru_maxrss` growth over the step reported.
"""

from __future__ import annotations

import copy
import json
import math
import resource
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from orchestrator.bench.reference_step import ReferenceStep
from orchestrator.bench.reference_supernet import reference_copy
from search_space import build_supernet, count_macs, narrow_strided_convs, set_narrow_subsampling
from trainables.config import MimConfig, SearchConfig
from trainables.datasets import DATASETS
from trainables.distributed import Collective
from trainables.objective import SearchObjective
from trainables.search_step import SearchStep, build_optimisers

#: Dense peak TFLOP/s by GPU name (vendor datasheets, SXM parts unless named), by precision.
#: fp32 convolutions run as TF32 when cuDNN allows it (PyTorch's default).
PEAK_TFLOPS: dict[str, dict[str, float]] = {
    "H100 PCIe": {"bf16": 756.0, "tf32": 378.0, "fp32": 51.0},
    "H200": {"bf16": 989.0, "tf32": 494.7, "fp32": 66.9},
    "H100": {"bf16": 989.0, "tf32": 494.7, "fp32": 66.9},
    "A100": {"bf16": 312.0, "tf32": 156.0, "fp32": 19.5},
    "L40S": {"bf16": 362.0, "tf32": 183.0, "fp32": 91.6},
    "A10": {"bf16": 125.0, "tf32": 62.5, "fp32": 31.2},
    "L4": {"bf16": 121.0, "tf32": 60.0, "fp32": 30.3},
}

#: the suffix of a compiled twin's name
COMPILED = "+compile"


@dataclass(frozen=True)
class BenchSpec:
    search: SearchConfig
    image_size: int
    device: str = "cpu"
    steps: int = 3
    warmup: int = 1
    compare_reference: bool = False
    rss: bool = False
    trials: int = 1
    concurrency: int = 1
    #: activation-checkpointing modes to time as extra variants (`ckpt_<mode>`)
    checkpointing: tuple[str, ...] = ("cells",)
    #: also time the `unguarded` and `nchw` CPU layouts
    compare_layouts: bool = False
    #: also time compiled twins of plain and mim
    compile: bool = False


class _Variant:
    """One step function with its objective, timed as a unit (α step + weight step)."""

    def __init__(self, name: str, objective: SearchObjective, spec: BenchSpec, reference: bool):
        self.name, self.objective, self.reference = name, objective, reference
        self.compiled = name.endswith(COMPILED)
        cfg = spec.search
        w_opt, a_opt, _ = build_optimisers(objective, cfg.optim, cfg.epochs)
        if reference:
            self.step = ReferenceStep(objective, w_opt, a_opt, cfg.optim)
        else:
            self.step = SearchStep(
                objective, w_opt, a_opt, cfg.optim, "first",
                Collective(device=torch.device(spec.device)), cfg.runtime.bf16,
                forward=torch.compile(objective) if self.compiled else None,
            )
        self.times: list[float] = []
        self.cpu_times: list[float] = []  # process CPU time: the work, robust to a loaded machine
        self.peak_bytes = 0
        self.compile_s: float | None = None

    def run(self, xa, ya, xw, yw) -> None:
        if self.reference:
            self.step.alpha_step(xa, ya)
            self.step.weights_step(xw, yw)
        else:
            mask_a, mask_w = self.step.sample_masks(xa, xw)
            self.step.alpha_step(xa, ya, mask_a, xw, yw, mask_w)
            self.step.weights_step(xw, yw, mask_w)


def build_variants(spec: BenchSpec) -> list[_Variant]:
    """plain, mim (and reference): the same initial weights and α, on `spec.device`."""
    cfg = spec.search
    torch.manual_seed(cfg.seed)
    supernet = build_supernet(cfg.model.space, cfg.data.num_classes, cfg.model.channels, cfg.model.layers)
    layout = torch.channels_last if cfg.runtime.channels_last else torch.contiguous_format
    plain_mim = MimConfig(enabled=False)
    mim = cfg.mim if cfg.mim.active else cfg.mim.model_copy(update={"enabled": True, "mask_ratio": 0.5})
    objectives = {
        "plain": SearchObjective(copy.deepcopy(supernet), plain_mim, cfg.seed),
        "mim": SearchObjective(copy.deepcopy(supernet), mim, cfg.seed),
    }
    for mode in spec.checkpointing:
        ckpt = copy.deepcopy(supernet)
        ckpt.set_activation_checkpointing(mode)
        objectives[f"ckpt_{mode}"] = SearchObjective(ckpt, plain_mim, cfg.seed)
    if spec.compare_layouts:
        unguarded, nchw = copy.deepcopy(supernet), copy.deepcopy(supernet)
        set_narrow_subsampling(unguarded, False)
        nchw.channels_last_on_cpu = False
        objectives["unguarded"] = SearchObjective(unguarded, plain_mim, cfg.seed)
        objectives["nchw"] = SearchObjective(nchw, plain_mim, cfg.seed)
    if spec.compare_reference:
        objectives["reference"] = SearchObjective(reference_copy(supernet), plain_mim, cfg.seed)
    if spec.compile:
        for name in ("plain", "mim"):
            objectives[name + COMPILED] = copy.deepcopy(objectives[name])
    variants = []
    for name, objective in objectives.items():
        objective.to(spec.device, memory_format=layout)
        variants.append(_Variant(name, objective, spec, reference=name == "reference"))
    return variants


def make_batches(spec: BenchSpec):
    """Two fixed random batches (α split, weight split) of normalised images and labels."""
    cfg = spec.search
    g = torch.Generator().manual_seed(cfg.seed + 1)
    b, s = cfg.data.batch_size, spec.image_size
    out = []
    for _ in range(2):
        x = torch.randn(b, 3, s, s, generator=g).to(spec.device)
        if cfg.runtime.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        out += [x, torch.randint(0, cfg.data.num_classes, (b,), generator=g).to(spec.device)]
    return out


def run_bench(spec: BenchSpec) -> dict:
    cfg = spec.search
    device = torch.device(spec.device)
    variants = build_variants(spec)
    xa, ya, xw, yw = make_batches(spec)
    result: dict = {"config": _describe(spec), "peak_mem_method": _memory_method(device)}
    # before anything else runs a forward: plain and the checkpointed variants start equal
    checked = {v.name: compare_gradients(variants[0].objective, v.objective, xw, yw)
               for v in variants if v.name.startswith("ckpt_")}
    if spec.compare_reference:
        result["max_abs_diff"] = compare_outputs(variants[0].objective, variants[-1].objective, xa, ya)
    for v in variants:  # compiling: the twins' first step, timed apart
        if v.compiled:
            v.compile_s, _ = _timed_step(v, device, xa, ya, xw, yw)
    warmup = spec.warmup
    if device.type == "cpu":  # the first warm-up step is the instrumented, untimed one
        for v in variants:  # (compiled graphs save their tensors their own way: not counted)
            v.peak_bytes = None if v.compiled else saved_tensor_peak_bytes(v, xa, ya, xw, yw)
        warmup = max(warmup - 1, 0)
    for i in range(warmup + spec.steps):
        for v in variants:
            cpu_start = time.process_time()
            elapsed, peak = _timed_step(v, device, xa, ya, xw, yw)
            if i >= warmup:
                v.times.append(elapsed)
                v.cpu_times.append(time.process_time() - cpu_start)
            if v.peak_bytes is not None:
                v.peak_bytes = max(v.peak_bytes, peak)
    size = spec.image_size
    macs = count_macs(variants[0].objective.supernet, (3, size, size))
    decoder_macs = _decoder_macs(variants[1].objective, size)
    peak_tflops, precision = peak_flops(device, cfg.runtime.bf16)
    result["macs_per_image"] = {"supernet": macs, "mim_decoder": decoder_macs}
    result["device_peak_tflops"] = {"precision": precision, "tflops": peak_tflops if peak_tflops else "unknown"}
    for v in variants:
        step_macs = macs + (decoder_macs if v.name == "mim" else 0)
        result[v.name] = _summary(v, cfg.data.batch_size, step_macs, peak_tflops)
        if spec.rss and not v.compiled:
            result[v.name]["rss_peak_mb"] = rss_peak_mb(spec, v.name)
    result["mim_overhead"] = result["mim"]["step_ms"] / result["plain"]["step_ms"] - 1.0
    if checked:
        result["checkpointing"] = {
            name.removeprefix("ckpt_"): {
                "time_vs_plain": result[name]["step_ms"] / result["plain"]["step_ms"],
                "cpu_time_vs_plain": result[name]["step_cpu_ms"] / result["plain"]["step_cpu_ms"],
                "saved_memory_vs_plain": result[name]["peak_mem_mb"] / max(result["plain"]["peak_mem_mb"], 1e-9),
                "max_abs_diff_vs_plain": diff,
            }
            for name, diff in checked.items()
        }
    if spec.compare_layouts:
        result["layouts"] = {
            "narrow_strided_convs": narrow_strided_convs(variants[0].objective.supernet),
            **{name: {"time_vs_plain": result[name]["step_ms"] / result["plain"]["step_ms"],
                      "cpu_time_vs_plain": result[name]["step_cpu_ms"] / result["plain"]["step_cpu_ms"]}
               for name in ("unguarded", "nchw")},
        }
    if spec.compile:
        result["compile"] = {
            name: {"compile_s": result[name + COMPILED]["compile_s"],
                   "speedup_vs_eager": result[name]["step_ms"] / result[name + COMPILED]["step_ms"]}
            for name in ("plain", "mim")
        }
    if spec.compare_reference:
        ref = result["reference"]
        result["speedup_vs_reference"] = ref["step_ms"] / result["plain"]["step_ms"]
        result["memory_vs_reference"] = result["plain"]["peak_mem_mb"] / max(ref["peak_mem_mb"], 1e-9)
    used = "mim" if cfg.mim.active else "plain"
    result["estimate"] = estimate_wall_time(cfg, result[used]["step_ms"], spec.trials, spec.concurrency)
    result["estimate"]["variant"] = used
    return result


def compare_outputs(fast: SearchObjective, ref: SearchObjective, x, y) -> dict[str, float]:
    """Max |difference| of logits, features, loss and α gradients on one batch (train mode)."""
    outs = []
    for objective in (fast, ref):
        logits, features = objective.supernet(x)
        loss = F.cross_entropy(logits.float(), y)
        alphas = objective.arch_parameters()
        grads = torch.autograd.grad(loss, alphas, allow_unused=True)
        grads = [torch.zeros_like(a) if g is None else g for a, g in zip(alphas, grads)]
        outs.append((logits.detach(), features.detach(), loss.detach(), grads))
    (l1, f1, c1, g1), (l2, f2, c2, g2) = outs
    return {
        "logits": (l1 - l2).abs().max().item(),
        "features": (f1 - f2).abs().max().item(),
        "loss": (c1 - c2).abs().item(),
        "alpha_grad": max((a - b).abs().max().item() for a, b in zip(g1, g2)),
        "alpha_grad_scale": max(b.abs().max().item() for b in g2),
        "features_scale": f2.abs().max().item(),
    }


def compare_gradients(plain: SearchObjective, other: SearchObjective, x, y) -> dict[str, float]:
    """Max |difference| of the loss, the α and the weight gradients and the BatchNorm
    running statistics after one forward/backward of each objective on the same batch (on
    copies: the variants themselves are left as they are)."""
    outs = []
    for objective in (copy.deepcopy(plain), copy.deepcopy(other)):
        loss = objective(x, y).total
        params = objective.arch_parameters() + objective.weight_parameters()
        grads = torch.autograd.grad(loss, params, allow_unused=True)
        grads = [torch.zeros_like(p) if g is None else g for p, g in zip(params, grads)]
        stats = [b for name, b in objective.named_buffers() if "running" in name]
        outs.append((loss.detach(), grads, stats, len(objective.arch_parameters())))
    (l1, g1, s1, n), (l2, g2, s2, _) = outs

    def most(a, b):
        return max(((x - y).abs().max().item() for x, y in zip(a, b)), default=0.0)

    return {"loss": (l1 - l2).abs().item(), "alpha_grad": most(g1[:n], g2[:n]),
            "weight_grad": most(g1[n:], g2[n:]), "bn_running_stats": most(s1, s2)}


def _timed_step(v: _Variant, device, *batch) -> tuple[float, int]:
    base = 0
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        base = torch.cuda.memory_allocated(device)
    start = time.perf_counter()
    v.run(*batch)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elapsed = time.perf_counter() - start
    peak = torch.cuda.max_memory_allocated(device) - base if device.type == "cuda" else 0
    return elapsed, peak


def saved_tensor_peak_bytes(v: _Variant, xa, ya, xw, yw) -> int:
    """Bytes of distinct storages autograd saves for backward, max over the two phases."""
    params = {p.untyped_storage().data_ptr() for p in v.objective.parameters()}
    phases: list[dict[int, int]] = []

    def pack(t: torch.Tensor):
        storage = t.untyped_storage()
        if storage.data_ptr() not in params:
            phases[-1][storage.data_ptr()] = storage.nbytes()
        return t

    @contextmanager
    def phase():
        phases.append({})
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            yield

    if v.reference:
        with phase():
            v.step.alpha_step(xa, ya)
        with phase():
            v.step.weights_step(xw, yw)
    else:
        mask_a, mask_w = v.step.sample_masks(xa, xw)
        with phase():
            v.step.alpha_step(xa, ya, mask_a, xw, yw, mask_w)
        with phase():
            v.step.weights_step(xw, yw, mask_w)
    return max(sum(p.values()) for p in phases)


def _summary(v: _Variant, batch: int, macs: int, peak_tflops: float | None) -> dict:
    step_s = statistics.median(v.times)
    # a step trains on 2 batches (α split + weight split); fwd + bwd ~ 3 forward passes.
    flops = 2 * 3 * 2 * batch * macs
    return {
        "step_ms": step_s * 1e3,
        "images_per_s": 2 * batch / step_s,
        "peak_mem_mb": None if v.peak_bytes is None else v.peak_bytes / 2**20,
        "step_ms_all": [t * 1e3 for t in v.times],
        "step_cpu_ms": statistics.median(v.cpu_times) * 1e3,
        "step_cpu_ms_all": [t * 1e3 for t in v.cpu_times],
        "achieved_tflops": flops / step_s / 1e12,
        "peak_fraction": flops / step_s / 1e12 / peak_tflops if peak_tflops else "unknown",
        **({"compile_s": v.compile_s} if v.compiled else {}),
    }


def _decoder_macs(objective: SearchObjective, image_size: int) -> int:
    if objective.mim is None:
        return 0
    net = objective.supernet
    side = max(image_size // net.feature_stride, 1)
    return count_macs(objective.mim.decoder, (net.feature_channels, side, side))


def peak_flops(device: torch.device, bf16: bool) -> tuple[float | None, str]:
    """(dense peak TFLOP/s, precision) of a known GPU; (None, ...) on CPU or unknown GPUs."""
    if device.type != "cuda":
        return None, "fp32"
    precision = "bf16" if bf16 else ("tf32" if torch.backends.cudnn.allow_tf32 else "fp32")
    name = torch.cuda.get_device_name(device)
    for key, peaks in PEAK_TFLOPS.items():
        if key in name:
            return peaks[precision], precision
    return None, precision


def _memory_method(device: torch.device) -> str:
    if device.type == "cuda":
        return "torch.cuda.max_memory_allocated during a step, minus memory allocated before it"
    return "bytes of distinct tensors saved for backward (autograd saved_tensors_hooks), parameters excluded, max of the two forward passes"


def estimate_wall_time(cfg: SearchConfig, step_ms: float, trials: int, concurrency: int) -> dict:
    """One epoch = min(weight split, α split) per worker // batch steps (drop_last); a sweep =
    trials x epochs x epoch / concurrency (no early stopping, no evaluation or loading time)."""
    data = cfg.data
    n = DATASETS[data.dataset].train_images or data.synthetic_samples
    if data.subset is not None:
        n = min(n, data.subset)
    cut = int(round(data.train_portion * n))
    per_worker = math.ceil(min(cut, n - cut) / cfg.runtime.num_workers)
    steps = per_worker // data.batch_size
    epoch_s = steps * step_ms / 1e3
    return {
        "dataset": data.dataset, "train_images": n, "steps_per_epoch": steps,
        "epoch_s": epoch_s, "epochs": cfg.epochs, "search_s": epoch_s * cfg.epochs,
        "trials": trials, "concurrency": concurrency,
        "sweep_s": trials * cfg.epochs * epoch_s / concurrency,
    }


def _describe(spec: BenchSpec) -> dict:
    cfg = spec.search
    return {
        "space": cfg.model.space, "channels": cfg.model.channels, "layers": cfg.model.layers,
        "batch_size": cfg.data.batch_size, "image_size": spec.image_size,
        "device": spec.device,
        "device_name": torch.cuda.get_device_name(spec.device) if spec.device.startswith("cuda") else "cpu",
        "threads": torch.get_num_threads(), "steps": spec.steps, "warmup": spec.warmup,
        "bf16": cfg.runtime.bf16, "channels_last": cfg.runtime.channels_last, "compile": spec.compile,
        "checkpointing": list(spec.checkpointing), "compare_layouts": spec.compare_layouts,
        "mim": {"mask_ratio": cfg.mim.mask_ratio, "decoder_depth": cfg.mim.decoder_depth,
                "decoder_width": cfg.mim.decoder_width, "patch_size": cfg.mim.patch_size},
    }


def rss_peak_mb(spec: BenchSpec, variant: str) -> float:
    """Run `variant` alone in a fresh process: ru_maxrss after warm-up + 1 step minus the RSS
    just before the first step (MiB)."""
    payload = json.dumps({
        "search": spec.search.model_dump(mode="json"), "device": spec.device,
        "warmup": spec.warmup, "variant": variant, "threads": torch.get_num_threads(),
        "compare_reference": variant == "reference", "image_size": spec.image_size,
        "checkpointing": [variant.removeprefix("ckpt_")] if variant.startswith("ckpt_") else [],
        "compare_layouts": variant in ("unguarded", "nchw"),
    })
    out = subprocess.run(
        [sys.executable, "-m", "orchestrator.bench.run", payload], capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip().splitlines()[-1])


def _rss_child(payload: dict) -> None:
    torch.set_num_threads(payload["threads"])
    spec = BenchSpec(SearchConfig.model_validate(payload["search"]), payload["image_size"], payload["device"],
                     compare_reference=payload["compare_reference"],
                     checkpointing=tuple(payload["checkpointing"]), compare_layouts=payload["compare_layouts"])
    variant = next(v for v in build_variants(spec) if v.name == payload["variant"])
    batch = make_batches(spec)
    with open("/proc/self/statm") as f:
        rss_before = int(f.read().split()[1]) * resource.getpagesize()
    for _ in range(payload["warmup"] + 1):
        variant.run(*batch)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print((peak - rss_before) / 2**20)


if __name__ == "__main__":
    _rss_child(json.loads(sys.argv[1]))
