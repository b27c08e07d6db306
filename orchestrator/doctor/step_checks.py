"""Each runtime switch's few search or retrain steps against the fp32 eager steps of their
kind: a row per switch with the verdict, the differences, the step time, images/s, peak
memory and host reads per step (orchestrator.doctor.switches lists them)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import torch

from orchestrator.doctor.sizes import CheckSizes
from orchestrator.doctor.switches import selected
from orchestrator.doctor.tolerances import relative_difference
from orchestrator.doctor.traces import Trace, retrain_trace, search_trace

#: host reads a step may make: the search step's one (its finiteness check, both losses at
#: once), none in the retrain's (its loss is summed on the device and read once an epoch)
HOST_READS_ALLOWED = {"search": 1, "retrain": 0}


def check_steps(sizes: CheckSizes, device: torch.device, quick: bool,
                progress: Callable[[dict], None] = lambda row: None) -> list[dict]:
    rows: list[dict] = []
    baselines: dict[tuple[str, str], Trace] = {}
    for switch, skipped in selected(quick, device.type == "cuda"):
        row = {"check": switch.kind, "order": switch.order if switch.kind == "search" else None,
               "switch": switch.name, "tolerance": {"name": switch.tolerance.name, "loss": switch.tolerance.loss,
                                                    "alpha_grad": switch.tolerance.alpha_grad,
                                                    "weight_grad": switch.tolerance.weight_grad}}
        if switch.refused:
            row.update(result="refused by design", why=switch.refused)
        elif skipped:
            row.update(result="skipped", why=skipped)
        else:
            started = time.perf_counter()
            try:
                trace = _trace(switch, sizes, device)
            except Exception as exc:  # a doctor reports a failing switch and goes on
                row.update(result="fail", why=_one_line(exc))
            else:
                key = (switch.kind, switch.order)
                if switch.baseline:
                    baselines[key] = trace
                row.update(_measured(switch, trace, sizes))
                row.update(_verdict(switch, trace, baselines.get(key)))
            row["seconds"] = time.perf_counter() - started
        progress(row)
        rows.append(row)
    return rows


def _trace(switch, sizes: CheckSizes, device: torch.device) -> Trace:
    base = sizes.steps.search if switch.kind == "search" else sizes.steps.retrain
    update = {"runtime": base.runtime.model_copy(update=switch.runtime)}
    if switch.kind == "search":
        cfg = base.model_copy(update={**update, "order": switch.order})
        return search_trace(cfg, device, sizes.search_image, sizes.timed, sizes.warmup, switch.tf32)
    return retrain_trace(base.model_copy(update=update), device, sizes.retrain_image, sizes.timed,
                         sizes.warmup, switch.tf32)


def _measured(switch, trace: Trace, sizes: CheckSizes) -> dict:
    cfg = sizes.steps.search if switch.kind == "search" else sizes.steps.retrain
    images = cfg.data.batch_size * (2 if switch.kind == "search" else 1)  # α + weight batch
    step_s = trace.step_ms() / 1e3
    out = {"step_ms": trace.step_ms(), "images_per_s": images / step_s, "peak_mem_mb": trace.peak_mem_mb,
           "host_reads_per_step": trace.host_reads_per_step}
    if switch.runtime.get("compile"):
        out["compile_s"] = trace.compile_s()
    return out


def _verdict(switch, trace: Trace, baseline: Trace | None) -> dict:
    if not all(math.isfinite(v) for v in trace.losses):
        return {"result": "fail", "why": f"non-finite loss: {trace.losses}"}
    reads, allowed = trace.host_reads_per_step, HOST_READS_ALLOWED[switch.kind]
    if reads is not None and reads > allowed:
        return {"result": "fail", "why": f"{reads:g} host reads per step (at most {allowed}): "
                                         + ", ".join(trace.read_places)}
    if switch.baseline:
        return {"result": "pass", "why": "the reference the others are compared with"}
    if baseline is None:
        return {"result": "fail", "why": "its fp32 baseline failed: nothing to compare with"}
    tol = switch.tolerance
    diffs = {
        "loss_rel_diff": max(relative_difference(v, r) for v, r in zip(trace.losses, baseline.losses)),
        "alpha_grad_rel_diff": _grad_difference(trace, baseline, "alpha"),
        "weight_grad_rel_diff": _grad_difference(trace, baseline, "weights"),
    }
    bounds = {"loss_rel_diff": tol.loss, "alpha_grad_rel_diff": tol.alpha_grad, "weight_grad_rel_diff": tol.weight_grad}
    over = [f"{k.removesuffix('_rel_diff').replace('_', ' ')} {diffs[k]:.2g} > {bounds[k]:g}"
            for k in diffs if diffs[k] is not None and diffs[k] > bounds[k]]
    return {**diffs, "result": "fail" if over else "pass", "why": "; ".join(over) or None}


def _grad_difference(trace: Trace, baseline: Trace, name: str) -> float | None:
    if name not in trace.grads:
        return None
    g, ref = trace.grads[name], baseline.grads[name]
    return float((g - ref).norm() / ref.norm().clamp_min(1e-30))


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"{type(exc).__name__}: {text[:300]}"
