"""One Tune trial that is one run of a loop: the resources it holds, how many fit at once,
and fitting a Ray Train run with its failure turned into one line.

The sweep's trials (a supernet search each) and the retrain stage's trials (a discrete
network's training each) are both this shape. With several workers the trial is a Tune
function trainable that only waits on its Train run, so it takes a sliver of a CPU and its
Train workers take the real resources. With one worker the loop runs in the trial itself
(`orchestrator.stages.in_trial`: no worker group to start), which then holds the worker's share.
"""

from __future__ import annotations

import math

from orchestrator.errors import UsageError
from orchestrator.stages.search_run import one_line, root_cause

#: CPU reserved for a trial's driver (the Tune function that only waits on its Train run);
#: Ray refuses exactly 0, and a whole CPU per driver starves a small machine (docs/ray-notes.md).
DRIVER_CPU = 0.01


class TrialFailed(RuntimeError):
    """A trial's Train run failed; the message is the root cause, in one line."""


def fit_in_trial(trainer) -> object:
    """`trainer.fit()` inside a Tune trial; a failed run raises TrialFailed naming its cause
    (Tune records it in the trial's error file and the result tables)."""
    from ray.train import TrainingFailedError

    try:
        return trainer.fit()
    except TrainingFailedError as exc:
        failures = getattr(exc, "worker_failures", None) or {}
        first = next(iter(failures.values()), getattr(exc, "controller_failure", exc))
        raise TrialFailed(f"{type(root_cause(first)).__name__}: {one_line(first)}") from None


def driver_resources(driver_resource: str | None = None) -> dict[str, float]:
    """What a trial's driver holds (`tune.with_resources`): a sliver of a CPU, or, on a
    cluster that names a driver resource (`cluster.driver_resource`), one unit of it and no
    CPU, so that drivers run only on the nodes that offer it (cluster.yaml: the head)."""
    if driver_resource:
        return {"cpu": 0, driver_resource: 1.0}
    return {"cpu": DRIVER_CPU}


def trial_resources(num_workers: int, cpus_per_worker: float, use_gpu: bool,
                    gpus_per_worker: float, in_trial: bool = False,
                    driver_resource: str | None = None) -> dict[str, float]:
    """What one trial holds while it runs: its Train workers plus its driver's share, or,
    running the loop itself (`in_trial`), the one worker's share."""
    driver = {} if in_trial else driver_resources(driver_resource)
    resources = {"CPU": num_workers * cpus_per_worker + driver.pop("cpu", 0.0)}
    if use_gpu:
        resources["GPU"] = num_workers * gpus_per_worker
    resources.update(driver)
    return resources


def trainable_resources(runtime, in_trial: bool, driver_resource: str | None = None) -> dict[str, float]:
    """`tune.with_resources`' argument: the driver's share when Train workers hold the real
    resources, else the one worker's CPU (and GPU)."""
    if not in_trial:
        return driver_resources(driver_resource)
    resources = {"cpu": runtime.cpus_per_worker}
    if runtime.use_gpu:
        resources["gpu"] = runtime.gpus_per_worker
    return resources


def concurrent_trials(needs: dict[str, float], cluster: dict[str, float], num_trials: int,
                      configured: int | None, section: str) -> int:
    """`configured`, else as many trials as the cluster's resources hold now (more would
    only wait in Ray's queue); UsageError when not even one fits, or when no node offers the
    driver resource (an autoscaler adds GPU nodes on demand, never the head's resource)."""
    absent = [kind for kind in needs if kind not in ("CPU", "GPU") and cluster.get(kind, 0.0) <= 0]
    if absent:  # the only custom resource a trial asks for is its driver's
        raise UsageError(
            f"cluster.driver_resource={absent[0]!r}: no node of the cluster offers that "
            "resource; start the node that runs drivers with it (cluster.yaml: the head's "
            "`resources`), or leave cluster.driver_resource unset"
        )
    if configured is not None:
        return configured
    fits = min(math.floor(cluster.get(kind, 0.0) / amount + 1e-9) for kind, amount in needs.items())
    if fits < 1:
        have = ", ".join(f"{cluster.get(kind, 0.0):g} {kind}" for kind in needs)
        want = ", ".join(f"{amount:g} {kind}" for kind, amount in needs.items())
        raise UsageError(
            f"one trial needs {want} ({section}), the cluster has {have}; lower "
            f"{section}.num_workers/cpus_per_worker/gpus_per_worker, or set the stage's "
            "max_concurrent_trials when the cluster autoscales"
        )
    return min(fits, num_trials)


def trial_dirname(trial) -> str:
    return f"trial_{trial.trial_id}"


def trials_that_fit(runtime, in_trial: bool, driver_resource: str | None, cluster: dict[str, float],
                    num_trials: int, configured: int | None, section: str) -> int:
    """How many trials of `runtime` a stage runs at once (`concurrent_trials` of what one
    trial holds, `trial_resources`): the sweep's and the retrain's one rule."""
    needs = trial_resources(runtime.num_workers, runtime.cpus_per_worker, runtime.use_gpu,
                            runtime.gpus_per_worker, in_trial, driver_resource)
    return concurrent_trials(needs, cluster, num_trials, configured, section)
