"""The search loop under Ray Train: one `TorchTrainer`, N workers, gloo on CPU, NCCL on GPU.

Ray Train sets up the process group and the device; the loop averages gradients itself
(see `trainables.distributed`). A run restarted with the same (storage_path, name) resumes
from its latest checkpoint, and `runtime.max_failures` lets Ray replace lost workers, each
time resuming from that checkpoint.
"""

from __future__ import annotations

from ray.train.torch import TorchTrainer

from trainables.config import SearchConfig
from trainables.distributed import Collective
from trainables.phase_log import mark
from trainables.ray_trainer import quiet_train_worker, torch_trainer
from trainables.reporters import RayTrainReporter
from trainables.proxy_objective import ProxyObjective
from trainables.search_job import run_search_job


def search_worker(loop_config: dict) -> None:
    """`train_loop_per_worker`: the search config arrives as the validated object itself
    (Ray pickles it), so it is not dumped and validated again on the way. With a proxy
    objective, the derived genotype of the objective's epochs is trained from scratch on the
    same workers and scored with that epoch's report (`proxy_acc`)."""
    import ray.train.torch

    mark("worker_start", run=ray.train.get_context().get_experiment_name())
    quiet_train_worker()
    collective = Collective.current(ray.train.torch.get_device())
    run_search_job(loop_config["search"], loop_config.get("objective"), RayTrainReporter(), collective)


def build_search_trainer(
    config: SearchConfig, storage_path: str, name: str, callbacks: list | None = None,
    objective: ProxyObjective | None = None,
) -> TorchTrainer:
    return torch_trainer(search_worker, {"search": config, "objective": objective}, config.runtime,
                         storage_path, name, keep_checkpoints=2, callbacks=callbacks)
