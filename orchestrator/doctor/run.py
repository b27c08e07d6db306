"""`alphadarts doctor`, the whole check: the step checks on this machine's device (or, on a
cluster whose driver node has no GPU, on a GPU node as one Ray task), then the searches
through Ray Train; the report the command prints (`orchestrator.doctor.table`)."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass

import torch

from orchestrator.doctor.ray_checks import check_ray_search
from orchestrator.doctor.sizes import check_sizes, ray_search_config
from orchestrator.doctor.step_checks import check_steps


@dataclass(frozen=True)
class DoctorOptions:
    quick: bool = False
    address: str | None = None
    storage: str | None = None  # output_dir of the Ray searches; default: a new temp dir
    progress: bool = True  # one line per check on stderr


def run_doctor(options: DoctorOptions) -> dict:
    started = time.perf_counter()
    address = options.address or os.environ.get("RAY_ADDRESS")
    cluster_gpus = None
    if address:  # connected first: where the GPUs are decides where the step checks run
        cluster_gpus = _cluster_gpus(address)
    if not torch.cuda.is_available() and cluster_gpus:
        device, rows = _step_checks_on_a_gpu_node(options.quick)
    else:
        device, rows = _step_checks_here(options.quick, options.progress)
    storage = options.storage or tempfile.mkdtemp(prefix="alphadarts-doctor-")  # removed if all passes
    gpus = cluster_gpus if cluster_gpus is not None else torch.cuda.device_count()
    one = ray_search_config(options.quick, storage, min(gpus, 1))
    rows.append(_announced(options, check_ray_search(one, address, _label(one))))
    gpus = _cluster_gpus(address)  # Ray is up now, whoever started it
    two = ray_search_config(options.quick, storage, 2)
    if gpus >= 2:
        rows.append(_announced(options, check_ray_search(two, address, _label(two))))
    else:
        rows.append(_announced(options, {"check": "ray", "order": "first", "switch": _label(two),
                                         "result": "skipped", "why": f"needs 2 GPUs ({gpus:g} here)"}))
    passed = all(r["result"] != "fail" for r in rows)
    if passed and options.storage is None:
        shutil.rmtree(storage, ignore_errors=True)
        storage = None
    return {"device": device, "quick": options.quick, "storage": storage, "checks": rows,
            "passed": passed, "wall_s": time.perf_counter() - started}


def _label(config) -> str:
    rt = config.search.runtime
    where = "GPU" if rt.use_gpu else "CPU"
    switches = "+".join(k for k in ("bf16", "channels_last", "sync_bn") if getattr(rt, k)) or "fp32"
    backend = ", NCCL" if rt.use_gpu and rt.num_workers > 1 else ""
    return f"search, {rt.num_workers} worker{'s' if rt.num_workers > 1 else ''} on {where}{backend}, {switches}"


def _cluster_gpus(address: str | None) -> float:
    from orchestrator.cluster.ray_runtime import ensure_ray

    ensure_ray(address)
    import ray

    return ray.cluster_resources().get("GPU", 0)


def _step_checks_on_a_gpu_node(quick: bool) -> tuple[dict, list[dict]]:
    """The step checks as one Ray task holding a GPU: the driver node of `ray job submit`
    (the head) often has none."""
    import ray

    remote = ray.remote(num_gpus=1, max_retries=0)(_step_checks_here)
    return ray.get(remote.remote(quick))


#: intra-op threads of the step checks on a CPU: one, as `alphadarts bench` and a Ray Train
#: worker of cpus_per_worker <= 1 use (with two threads on a 2-core machine, OpenMP's
#: spin-waiting made the quick checks' steps many times slower)
CPU_THREADS = 1


def _step_checks_here(quick: bool, progress: bool = True) -> tuple[dict, list[dict]]:
    if not torch.cuda.is_available():
        torch.set_num_threads(CPU_THREADS)
    device = _device_description()
    return device, check_steps(check_sizes(quick), torch.device(device["type"]), quick,
                               _progress(DoctorOptions(quick, progress=progress)))


def _device_description() -> dict:
    if torch.cuda.is_available():
        return {"type": "cuda", "name": torch.cuda.get_device_name(0), "count": torch.cuda.device_count(),
                "torch": torch.__version__, "cuda": torch.version.cuda,
                "cudnn": torch.backends.cudnn.version()}
    return {"type": "cpu", "name": _cpu_name(), "count": 1, "threads": torch.get_num_threads(),
            "torch": torch.__version__}


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        return "cpu"


def _progress(options: DoctorOptions):
    def say(row: dict) -> None:
        if options.progress:
            order = f" ({row['order']} order)" if row.get("order") and row["check"] == "search" else ""
            took = f" in {row['seconds']:.1f} s" if "seconds" in row else ""
            print(f"doctor: {row['check']} {row['switch']}{order}: {row['result']}{took}", file=sys.stderr,
                  flush=True)
    return say


def _announced(options: DoctorOptions, row: dict) -> dict:
    _progress(options)(row)
    return row
