"""What a run asks for (workers x CPUs/GPUs) against what there is, checked before it waits.

Ray queues a request it cannot place and waits forever, logging "no available node types
can fulfill resource request" every minute. So each stage compares its runtime section with
the capacity first: with this machine's CPUs and GPUs before a local Ray starts
(`check_resources`), with the cluster's once connected (`check_cluster_resources`). A
shortfall is one line naming what is missing and the settings to change. A cluster whose
autoscaler could grow to fit is asked for the resources and given `--resource-wait` seconds.
"""

from __future__ import annotations

import logging
import math
import os
import sys
import time

from orchestrator.errors import UsageError
from trainables.config import WorkerResources

log = logging.getLogger(__name__)

#: default of --resource-wait: how long to wait for an autoscaling cluster to add nodes
DEFAULT_WAIT_S = 600.0


def add_resource_arguments(parser) -> None:
    parser.add_argument(
        "--resource-wait", type=float, default=DEFAULT_WAIT_S, metavar="SECONDS",
        help="on an autoscaling Ray cluster, how long to wait for the nodes a run needs before "
             f"giving up (default {DEFAULT_WAIT_S:g}); a fixed cluster or this machine is checked at once",
    )


def needs(runtime: WorkerResources, driver_cpu: float = 0.0) -> tuple[dict[str, float], dict[str, float]]:
    """(all workers together, one worker): what a run with `runtime` holds while it runs."""
    per_worker = {"CPU": runtime.cpus_per_worker}
    if runtime.use_gpu:
        per_worker["GPU"] = runtime.gpus_per_worker
    total = {kind: runtime.num_workers * amount for kind, amount in per_worker.items()}
    total["CPU"] += driver_cpu
    return total, per_worker


def local_capacity() -> dict[str, float]:
    """The CPUs this process may use and the CUDA devices torch sees (what a local Ray gets)."""
    import torch

    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return {"CPU": float(cpus), "GPU": float(torch.cuda.device_count())}


def shortfall(runtime: WorkerResources, section: str, have: dict[str, float], where: str,
              driver_cpu: float = 0.0, largest_node: dict[str, float] | None = None) -> str | None:
    """One line naming what `runtime` asks for beyond `have` and the settings to change, or
    None when it fits. `largest_node`: one worker must also fit on a single node."""
    total, per_worker = needs(runtime, driver_cpu)
    short = [kind for kind in ("GPU", "CPU") if kind in total and have.get(kind, 0.0) + 1e-9 < total[kind]]
    if largest_node is not None:
        short += [k for k, a in per_worker.items() if largest_node.get(k, 0.0) + 1e-9 < a and k not in short]
    if not short:
        return None
    n = runtime.num_workers
    asked = {
        "GPU": f"{_num(total.get('GPU', 0))} GPU (num_workers={n} x gpus_per_worker={_num(runtime.gpus_per_worker)})",
        "CPU": f"{_num(total['CPU'])} CPU (num_workers={n} x cpus_per_worker={_num(runtime.cpus_per_worker)}"
               + (f" + {_num(driver_cpu)} for the trial's driver)" if driver_cpu else ")"),
    }
    fixes = {
        "GPU": f"set {section}.use_gpu=false or lower {section}.gpus_per_worker/num_workers",
        "CPU": f"lower {section}.cpus_per_worker/num_workers",
    }
    owned = ", ".join(f"{_num(have.get(kind, 0.0))} {kind}" for kind in short)
    per_node = ""
    if largest_node is not None:
        per_node = f", its largest node {', '.join(f'{_num(largest_node.get(k, 0.0))} {k}' for k in short)}"
    return (f"{section} asks for {' and '.join(asked[k] for k in short)}, {where} has {owned}{per_node}: "
            f"{'; '.join(fixes[k] for k in short)} (e.g. --set {section}.{_example(short)}), or run on "
            "a cluster that has them (--address)")


def _example(short: list[str]) -> str:
    return "use_gpu=false" if "GPU" in short else "cpus_per_worker=1"


def _num(value: float) -> str:
    return f"{value:g}"


def starts_local_ray(address: str | None) -> bool:
    """Whether `ensure_ray(address)` would start a Ray instance on this machine."""
    ray = sys.modules.get("ray")
    if ray is not None and ray.is_initialized():
        return False
    return not (address or os.environ.get("RAY_ADDRESS"))


def check_resources(runtime: WorkerResources, section: str, address: str | None,
                    driver_cpu: float = 0.0) -> None:
    """Before Ray starts: a run on a local Ray must fit this machine (UsageError if not). A
    run on a cluster is checked once connected (`check_cluster_resources`)."""
    if not starts_local_ray(address):
        return
    problem = shortfall(runtime, section, local_capacity(), "this machine", driver_cpu)
    if problem:
        raise UsageError(problem)


def check_cluster_resources(runtime: WorkerResources, section: str, wait_s: float = DEFAULT_WAIT_S,
                            driver_cpu: float = 0.0, poll_s: float = 5.0) -> None:
    """Once connected: the run must fit the cluster. A fixed cluster is refused at once; an
    autoscaling one is asked for the workers' bundles and may take `wait_s` to add nodes."""
    import ray

    deadline, asked = time.monotonic() + wait_s, False
    try:
        while True:
            have, largest = _cluster_now(ray)
            problem = shortfall(runtime, section, have, "the Ray cluster", driver_cpu, largest)
            if problem is None:
                return
            ceiling = _autoscaler_ceiling()
            if ceiling is None:
                raise UsageError(problem)
            if shortfall(runtime, section, ceiling, "the cluster at its autoscaling maximum", driver_cpu):
                raise UsageError(problem.replace("the Ray cluster has", "the Ray cluster, even at its "
                                                 "autoscaling maximum, has"))
            if time.monotonic() >= deadline:
                raise UsageError(f"{problem} (waited {wait_s:g} s for the autoscaler; --resource-wait "
                                 "sets how long)")
            if not asked:
                _ask_autoscaler(runtime)
                asked = True
                log.warning("waiting up to %g s for the autoscaler to add what %s needs: %s",
                            wait_s, section, problem.split(":")[0])
            time.sleep(min(poll_s, max(deadline - time.monotonic(), 0.0)))
    finally:
        if asked:
            _ask_autoscaler(None)


def _cluster_now(ray) -> tuple[dict[str, float], dict[str, float]]:
    have = {k: float(v) for k, v in ray.cluster_resources().items()}
    largest: dict[str, float] = {}
    for node in ray.nodes():
        if not node.get("Alive"):
            continue
        for kind in ("CPU", "GPU"):
            largest[kind] = max(largest.get(kind, 0.0), float(node.get("Resources", {}).get(kind, 0.0)))
    return have, largest


def _autoscaler_ceiling() -> dict[str, float] | None:
    """The most the cluster's autoscaler may grow to, or None for a fixed cluster (one started
    by `ray start` or a local one, which registers no autoscaling config)."""
    try:
        from ray._private.state import state  # private; checked against Ray 2.60

        ceiling = state.get_max_resources_from_cluster_config()
    except Exception:  # another Ray layout: treat the cluster as fixed
        return None
    return None if not ceiling else {k: float(v) for k, v in ceiling.items()}


def _ask_autoscaler(runtime: WorkerResources | None) -> None:
    """Ask the autoscaler for the run's worker bundles (it scales only for pending demand,
    and the run places nothing before this check passes); None withdraws the request."""
    try:
        from ray.autoscaler.sdk import request_resources

        if runtime is None:
            request_resources(bundles=[])
        else:
            _, per_worker = needs(runtime)
            request_resources(bundles=[{k: math.ceil(v) if k == "GPU" else v for k, v in per_worker.items()}]
                              * runtime.num_workers)
    except Exception as exc:  # the request is a hint; the check itself goes on
        log.debug("request_resources failed: %s", exc)
