"""The loops run directly in a Tune trial, for single-worker runs: no Ray Train worker group.

With one worker, a Train run inside a trial costs a controller actor and a worker actor
(each a new process importing torch), a placement group and a one-rank process group before
the first step, for nothing a single process needs (docs/benchmarks.md, "Per-trial
overhead"). Here the trial's own process
runs the loop (the trial then holds the worker's CPU and GPU itself), checkpoints go to the
run directory a Train run would use (`trainables.run_dir_checkpoints`), and a trial started
again there resumes from the newest one. Several workers still run on Ray Train
(`trainables.ray_search`, `trainables.ray_train`).
"""

from __future__ import annotations

import torch

from search_space import Genotype
from trainables.config import SearchConfig, WorkerResources
from trainables.distributed import Collective
from trainables.metrics import for_tune
from trainables.run_dir_checkpoints import RunDirCheckpoints
from trainables.proxy_objective import ProxyObjective, scored
from trainables.reporters import Reporter
from trainables.search_job import run_search_job
from trainables.train_config import TrainConfig
from trainables.train_loop import run_train

#: checkpoints kept per search run (as `trainables.ray_search.build_search_trainer` keeps)
SEARCH_KEEP_CHECKPOINTS = 2


def runs_in_trial(runtime: WorkerResources, storage_path: str, driver_resource: str | None = None) -> bool:
    """Whether a run with this runtime runs in its Tune trial: one worker, no worker
    restarts asked for (`max_failures`: Ray Train's, which replaces a lost worker within
    the trial), a run directory on a file system (an object store needs Ray Train's
    storage layer), and no driver resource (`cluster.driver_resource` pins trial drivers to
    the head, which must not train)."""
    return (runtime.num_workers == 1 and runtime.max_failures == 0 and "://" not in storage_path
            and not driver_resource)


class TuneTrialReporter(Reporter):
    """Reporter for a loop running in a Tune trial: the checkpoint goes to the run directory
    and its path travels with the metrics as `checkpoint_path`, as Ray Train's
    `TuneReportCallback` sends it, so the sweep's tables read both paths alike."""

    def __init__(self, checkpoints: RunDirCheckpoints):
        self.checkpoints = checkpoints

    def report(self, metrics: dict, state: dict | None) -> None:
        from ray import tune

        if state is not None:
            metrics = {**metrics, "checkpoint_path": self.checkpoints.save(int(state["epoch"]), state)}
        tune.report(for_tune(metrics))

    def latest_state(self) -> dict | None:
        return self.checkpoints.latest_state()


def trial_collective(runtime: WorkerResources) -> Collective:
    """One process; on a GPU trial the one Ray gave it (CUDA_VISIBLE_DEVICES names only it)."""
    return Collective(0, 1, torch.device("cuda", 0) if runtime.use_gpu else torch.device("cpu"))


def search_in_trial(search: SearchConfig, objective: ProxyObjective | None, run_dir: str) -> None:
    checkpoints = RunDirCheckpoints(run_dir, SEARCH_KEEP_CHECKPOINTS)
    collective = trial_collective(search.runtime)
    reporter = TuneTrialReporter(checkpoints)
    if not report_finished_run(checkpoints, search.epochs, scored(reporter, objective, search.model.space, collective)):
        run_search_job(search, objective, reporter, collective)


def report_finished_run(checkpoints: RunDirCheckpoints, epochs: int, reporter: Reporter) -> bool:
    """A run whose last epoch is already checkpointed (its driver was killed after the
    report, before Tune saved that the trial ended): report that epoch again, from the
    checkpoint, through `reporter` (which scores it where the sweep ranks by the proxy), so
    that the restored trial ends with its metrics and objective (Tune and ASHA need a
    result; the loop would run no epoch and report nothing). The sweep's tables record
    an epoch once."""
    state = checkpoints.latest_state()
    if state is None or int(state["epoch"]) < epochs or not state.get("history"):
        return False
    reporter.report({**state["history"][-1], "checkpoint_path": str(checkpoints.latest())}, None)
    return True


def train_in_trial(config: TrainConfig, genotype: Genotype, run_dir: str) -> None:
    reporter = TuneTrialReporter(RunDirCheckpoints(run_dir, config.keep_checkpoints))
    run_train(config, genotype, reporter, trial_collective(config.runtime))
