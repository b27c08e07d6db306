"""`alphadarts bench`: time the search step (α step + weight step, first order) without and
with MIM, report images/s, ms per step, peak memory, MACs and the share of the device's peak
FLOP rate, and estimate the wall time of an epoch, a search and a sweep from the config.

Beside them it times the plain step with activation checkpointing (`ckpt_<mode>`, modes from
`--checkpointing`), reports its step time and saved-activation memory relative to the plain
step's, and checks its loss and gradients against the plain step's on one batch.

`--max-batch` (CUDA) instead finds the largest per-worker batch that fits the device, without
and with checkpointing: doubling, then a binary search, each try two full search steps.

`--compare-reference` also times the straightforward DARTS step on the straightforward
supernet (same weights, same batches), and prints the speedup and the largest differences of
logits, features and α gradients between the two.

`--compare-layouts` (CPU) also times the plain step in two other CPU layouts: `unguarded`,
the 1x1 stride-2 convs with fewer than 8 input channels run strided in channels_last, as
before they were kept off a oneDNN kernel that aborts on CPUs with AVX2 and no AVX-512 (so
this variant aborts there when the supernet has such convs: DARTS with C < 4); and `nchw`, the
supernet without channels_last on CPU.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from pydantic import ValidationError

from orchestrator.config import ExperimentConfig, describe_validation_error, load_config
from orchestrator.config import _apply_override as apply_override
from orchestrator.errors import UsageError
from search_space.catalog import CHECKPOINT_MODES, space_names

if TYPE_CHECKING:  # torch: imported when the command runs, not to build its parser
    from orchestrator.bench.run import BenchSpec


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("bench", help="time the search step (with and without MIM)", description=__doc__)
    p.add_argument("--config", help="preset or YAML file for the MIM, optimiser, data and sweep settings")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config field, e.g. --set search.mim.mask_ratio=0.3 (repeatable)")
    p.add_argument("--space", choices=space_names(), help="default: the config's (darts)")
    p.add_argument("--batch-size", type=int, help="default: the config's")
    p.add_argument("--channels", type=int, help="initial channels C (default: the config's)")
    p.add_argument("--layers", type=int, help="DARTS cells / NB201 cells per stage (default: the config's)")
    p.add_argument("--image-size", type=int, help="side of the random test images (default: the dataset's)")
    p.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N (default cpu)")
    p.add_argument("--threads", type=int, default=1,
                   help="torch intra-op threads (default 1: on a loaded CPU more can be far slower)")
    p.add_argument("--steps", type=int, default=3, help="timed steps per variant (median reported)")
    p.add_argument("--warmup", type=int, default=1, help="untimed steps per variant first")
    p.add_argument("--bf16", action="store_true", help="bf16 autocast (runtime.bf16)")
    p.add_argument("--channels-last", action="store_true", help="runtime.channels_last (CUDA; CPU always uses it)")
    p.add_argument("--compile", action="store_true",
                   help="also time torch.compile'd twins of plain and mim beside them (compile time apart)")
    p.add_argument("--checkpointing", metavar="MODE[,MODE]",
                   help=f"activation-checkpointing modes to time beside plain ({', '.join(CHECKPOINT_MODES[1:])}; "
                        "default: the config's search.runtime.activation_checkpointing, else cells)")
    p.add_argument("--max-batch", action="store_true",
                   help="CUDA: find the largest batch that fits the device, without and with checkpointing")
    p.add_argument("--compare-reference", action="store_true",
                   help="also time the straightforward DARTS step and check outputs agree")
    p.add_argument("--compare-layouts", action="store_true",
                   help="CPU: also time the plain step with narrow strided 1x1 convs unguarded (aborts on "
                        "AVX2-only CPUs for DARTS with C < 4) and in NCHW")
    p.add_argument("--rss", action="store_true",
                   help="CPU: also run each variant alone in a fresh process and report its RSS growth")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    p.set_defaults(run=run)


def run(args) -> int:
    spec = _spec(args)
    import torch

    from orchestrator.bench.max_batch import max_batch_report
    from orchestrator.bench.run import run_bench

    torch.set_num_threads(args.threads)
    if args.max_batch:
        if not spec.device.startswith("cuda"):
            raise UsageError(f"--max-batch: needs --device cuda (got --device={spec.device}); "
                             "a CPU has no fixed memory to fill")
        result = max_batch_report(spec)
        print(json.dumps(result) if args.json else _max_batch_text(result))
        return 0
    result = run_bench(spec)
    print(json.dumps(result) if args.json else _text(result))
    return 0


def _spec(args) -> BenchSpec:
    for flag in ("batch_size", "channels", "layers", "image_size", "threads", "steps"):
        value = getattr(args, flag)
        if value is not None and value <= 0:
            raise UsageError(f"--{flag.replace('_', '-')}={value}: must be a positive integer")
    if args.warmup < 0:
        raise UsageError(f"--warmup={args.warmup}: must be 0 or more")
    device = args.device
    if device != "cpu" and not device.startswith("cuda"):
        raise UsageError(f"--device={device!r}: allowed: cpu, cuda, cuda:N")
    if args.compare_layouts and device != "cpu":
        raise UsageError(f"--compare-layouts: compares CPU layouts; needs --device cpu (got --device={device})")
    if device.startswith("cuda") and not _cuda_available():
        raise UsageError(f"--device={device!r}: no CUDA device is available here")
    overrides = list(args.overrides)
    for flag, key in (("space", "model.space"), ("channels", "model.channels"),
                      ("layers", "model.layers"), ("batch_size", "data.batch_size")):
        if getattr(args, flag) is not None:
            overrides.append(f"search.{key}={getattr(args, flag)}")
    for flag in ("bf16", "channels_last"):
        if getattr(args, flag):
            overrides.append(f"search.runtime.{flag}=true")
    if device.startswith("cuda"):
        overrides.append("search.runtime.use_gpu=true")
    config = _load(args.config, overrides)
    size = args.image_size or config.search.data.resolved_image_size
    patch = config.search.mim.patch_size
    if size % patch:
        raise UsageError(f"--image-size={size}: search.mim.patch_size={patch} must divide it")
    sweep = config.sweep
    from orchestrator.bench.run import BenchSpec

    return BenchSpec(
        config.search, size, device, args.steps, args.warmup, args.compare_reference, args.rss,
        trials=sweep.num_samples, concurrency=sweep.max_concurrent_trials or 1,
        checkpointing=_checkpointing_modes(args.checkpointing, config.search.runtime.activation_checkpointing),
        compare_layouts=args.compare_layouts,
        compile=args.compile or config.search.runtime.compile,
    )


def _cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def _checkpointing_modes(flag: str | None, configured: str) -> tuple[str, ...]:
    if flag is None:
        return (configured if configured != "none" else "cells",)
    modes = tuple(dict.fromkeys(m.strip() for m in flag.split(",")))
    allowed = CHECKPOINT_MODES[1:]
    for mode in modes:
        if mode not in allowed:
            raise UsageError(f"--checkpointing={flag}: {mode!r} is not a mode; allowed: {', '.join(allowed)}")
    return modes


def _load(source: str | None, overrides: list[str]) -> ExperimentConfig:
    if source is not None:
        return load_config(source, overrides)
    # No config: the defaults (DARTS search sizes, MIM mask 0.5, decoder depth 2) on CIFAR-10.
    raw: dict = {}
    for item in ["search.data.dataset=cifar10", *overrides]:
        apply_override(raw, item)
    try:
        return ExperimentConfig.model_validate(raw)
    except ValidationError as exc:
        raise UsageError(describe_validation_error(exc, "bench flags")) from None


def _vs_plain(ratios: dict) -> str:
    """"1.21x (CPU 1.20x)": a variant's step time against the plain step's, wall and CPU."""
    return f"{ratios['time_vs_plain']:.2f}x (CPU {ratios['cpu_time_vs_plain']:.2f}x)"


def _text(r: dict) -> str:
    c = r["config"]
    lines = [
        f"{c['space']} supernet C={c['channels']} layers={c['layers']} batch {c['batch_size']} of "
        f"{c['image_size']}x{c['image_size']} on {c['device_name']} ({c['threads']} threads), "
        f"median of {c['steps']} steps after {c['warmup']} warm-up",
        f"MACs per image: supernet {r['macs_per_image']['supernet'] / 1e6:.1f}M, "
        f"MIM decoder {r['macs_per_image']['mim_decoder'] / 1e6:.1f}M; device peak: "
        f"{r['device_peak_tflops']['tflops']} TFLOP/s ({r['device_peak_tflops']['precision']})",
        f"{'variant':<14} {'ms/step':>9} {'images/s':>9} {'peak MB':>9} {'peak FLOP share':>16}",
    ]
    names = ["plain", "plain+compile", "mim", "mim+compile", *(f"ckpt_{m}" for m in c["checkpointing"]),
             "unguarded", "nchw", "reference"]
    for name in names:
        if name in r:
            v = r[name]
            share = v["peak_fraction"]
            share = f"{share:.1%}" if isinstance(share, float) else share
            peak = "n/a" if v["peak_mem_mb"] is None else f"{v['peak_mem_mb']:.1f}"
            lines.append(f"{name:<14} {v['step_ms']:9.1f} {v['images_per_s']:9.1f} {peak:>9} {share:>16}")
    lines.append(f"MIM adds {r['mim_overhead']:.1%} to the step; peak memory: {r['peak_mem_method']}")
    for name, ck in r.get("compile", {}).items():
        lines.append(f"compile ({name}): {ck['speedup_vs_eager']:.2f}x the eager step's speed, after "
                     f"{ck['compile_s']:.1f} s compiling (its first step)")
    for mode, ck in r.get("checkpointing", {}).items():
        d = ck["max_abs_diff_vs_plain"]
        lines.append(f"checkpointing {mode}: {_vs_plain(ck)} the plain step's time, "
                     f"{ck['saved_memory_vs_plain']:.2f}x its memory; max |diff| vs plain: loss {d['loss']:.1e}, "
                     f"α grad {d['alpha_grad']:.1e}, weight grad {d['weight_grad']:.1e}, "
                     f"BN stats {d['bn_running_stats']:.1e}")
    if "layouts" in r:
        lay = r["layouts"]
        lines.append(f"CPU layouts: {lay['narrow_strided_convs']} narrow 1x1 stride-2 convs subsampled; unguarded "
                     f"{_vs_plain(lay['unguarded'])} the plain step's time, NCHW {_vs_plain(lay['nchw'])}")
    if "speedup_vs_reference" in r:
        d = r["max_abs_diff"]
        lines.append(f"speedup over the straightforward step: {r['speedup_vs_reference']:.2f}x; peak memory "
                     f"{r['memory_vs_reference']:.2f}x of it; max |diff| logits {d['logits']:.2e}, "
                     f"features {d['features']:.2e}, α grad {d['alpha_grad']:.2e}")
    e = r["estimate"]
    lines.append(f"estimate ({e['variant']} step, {e['dataset']}): {e['steps_per_epoch']} steps/epoch, "
                 f"epoch {e['epoch_s'] / 60:.1f} min, search of {e['epochs']} epochs "
                 f"{e['search_s'] / 3600:.2f} h, sweep of {e['trials']} trials at {e['concurrency']} at once "
                 f"{e['sweep_s'] / 3600:.2f} h (no early stopping, evaluation or data loading)")
    return "\n".join(lines)


def _max_batch_text(r: dict) -> str:
    c = r["config"]
    lines = [f"{c['space']} supernet C={c['channels']} layers={c['layers']} on {c['device_name']}, "
             f"{c['image_size']}x{c['image_size']} images, per try two search steps and the clean passes "
             f"(MIM: {r['mim']}, sync_bn: {c['sync_bn']})"]
    for mode, found in r["largest_batch"].items():
        if not found["batch_size"]:
            lines.append(f"activation_checkpointing={mode}: nothing fits, not even batch 1 with the clean "
                         f"passes at {found['clean_pass_batch']} images ({found['tries']} tries)")
            continue
        lines.append(f"activation_checkpointing={mode}: largest batch that fits {found['batch_size']} "
                     f"(peak {found['peak_mem_mb']:.0f} MB with the clean passes at {found['clean_pass_batch']} "
                     f"images; {found['tries']} tries)")
    return "\n".join(lines)
