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
from trainables.search_job import search_then_proxy
from trainables.train_config import TrainConfig


def search_worker(loop_config: dict) -> None:
    """`train_loop_per_worker`: the search config arrives as the validated object itself
    (Ray pickles it), so it is not dumped and validated again on the way. With a `proxy`
    training config, the derived genotype is then trained from scratch on the same workers
    and its test accuracy reported with the search's last epoch (`proxy_acc`)."""
    import ray.train.torch

    mark("worker_start", run=ray.train.get_context().get_experiment_name())
    quiet_train_worker()
    collective = Collective.current(ray.train.torch.get_device())
    search_then_proxy(loop_config["search"], loop_config.get("proxy"), RayTrainReporter(), collective)


def build_search_trainer(
    config: SearchConfig, storage_path: str, name: str, callbacks: list | None = None,
    proxy: TrainConfig | None = None,
) -> TorchTrainer:
    return torch_trainer(search_worker, {"search": config, "proxy": proxy}, config.runtime,
                         storage_path, name, keep_checkpoints=2, callbacks=callbacks)
