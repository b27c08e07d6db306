"""The loops run directly in a Tune trial, for single-worker runs: no Ray Train worker group.

Measured on the quickstart sweep (docs/benchmarks.md): with one worker, a Train run inside
a trial costs a controller actor, a worker actor (each a process importing torch), a
placement group and a one-rank process group before the first step, and their teardown
after the last: ~14 s of a ~110 s trial on the 2-core machine, for nothing a single process
needs. Here the trial's own process runs the loop (the trial then holds the worker's CPU
and GPU itself), checkpoints go to the same run directory a Train run would use
(`run_dir_checkpoints`), and a trial started again there resumes from the newest one.
Several workers still run on Ray Train (`trainables.ray_search`, `trainables.ray_train`).
"""

from __future__ import annotations

import torch

from search_space import Genotype
from trainables.config import SearchConfig, WorkerResources
from trainables.distributed import Collective
from trainables.run_dir_checkpoints import RunDirCheckpoints, TuneTrialReporter
from trainables.search_job import search_then_proxy
from trainables.train_config import TrainConfig
from trainables.train_loop import run_train

#: checkpoints kept per search run (as `ray_search.build_search_trainer` keeps)
SEARCH_KEEP_CHECKPOINTS = 2


def runs_in_trial(runtime: WorkerResources, storage_path: str) -> bool:
    """Whether a run with this runtime runs in its Tune trial: one worker, and a run
    directory on a file system (an object store needs Ray Train's storage layer)."""
    return runtime.num_workers == 1 and "://" not in storage_path


def trial_collective(runtime: WorkerResources) -> Collective:
    """One process; on a GPU trial the one Ray gave it (CUDA_VISIBLE_DEVICES names only it)."""
    return Collective(0, 1, torch.device("cuda", 0) if runtime.use_gpu else torch.device("cpu"))


def search_in_trial(search: SearchConfig, proxy: TrainConfig | None, run_dir: str) -> None:
    reporter = TuneTrialReporter(RunDirCheckpoints(run_dir, SEARCH_KEEP_CHECKPOINTS))
    search_then_proxy(search, proxy, reporter, trial_collective(search.runtime))


def train_in_trial(config: TrainConfig, genotype: Genotype, run_dir: str) -> None:
    reporter = TuneTrialReporter(RunDirCheckpoints(run_dir, config.keep_checkpoints))
    run_train(config, genotype, reporter, trial_collective(config.runtime))
