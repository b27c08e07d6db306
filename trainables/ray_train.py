"""The train loop under Ray Train: one `TorchTrainer`, N workers (DDP over gloo on CPU,
NCCL on GPU). A run restarted with the same (storage_path, name) resumes from its latest
checkpoint; `runtime.max_failures` lets Ray replace lost workers, resuming likewise.
"""

from __future__ import annotations

from ray.train.torch import TorchTrainer

from search_space import Genotype
from trainables.distributed import Collective
from trainables.ray_trainer import quiet_train_worker, torch_trainer
from trainables.reporters import RayTrainReporter
from trainables.train_config import TrainConfig
from trainables.train_loop import run_train


def train_worker(loop_config: dict) -> None:
    """`train_loop_per_worker`: the validated TrainConfig and the genotype arrive as the
    objects themselves (Ray pickles them), not dumped and validated again on the way."""
    import ray.train.torch

    quiet_train_worker()
    collective = Collective.current(ray.train.torch.get_device())
    run_train(loop_config["train"], loop_config["genotype"], RayTrainReporter(), collective)


def build_train_trainer(
    config: TrainConfig, genotype: Genotype, storage_path: str, name: str, callbacks: list | None = None
) -> TorchTrainer:
    return torch_trainer(train_worker, {"train": config, "genotype": genotype}, config.runtime,
                         storage_path, name, config.keep_checkpoints, callbacks)
