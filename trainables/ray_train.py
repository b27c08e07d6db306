"""The train loop under Ray Train: one `TorchTrainer`, N workers (DDP over gloo on CPU,
NCCL on GPU). A run restarted with the same (storage_path, name) resumes from its latest
checkpoint; `runtime.max_failures` lets Ray replace lost workers, resuming likewise.
"""

from __future__ import annotations

from ray.train import CheckpointConfig, FailureConfig, RunConfig, ScalingConfig
from ray.train.torch import TorchConfig, TorchTrainer

from search_space import Genotype
from trainables.distributed import Collective
from trainables.reporters import RayTrainReporter
from trainables.train_config import TrainConfig
from trainables.train_loop import run_train


def train_worker(loop_config: dict) -> None:
    """`train_loop_per_worker`: the validated TrainConfig and the genotype arrive as the
    objects themselves (Ray pickles them), not dumped and validated again on the way."""
    import ray.train.torch

    collective = Collective.current(ray.train.torch.get_device())
    run_train(loop_config["train"], loop_config["genotype"], RayTrainReporter(), collective)


def build_train_trainer(
    config: TrainConfig, genotype: Genotype, storage_path: str, name: str, callbacks: list | None = None
) -> TorchTrainer:
    rt = config.runtime
    resources = {"CPU": rt.cpus_per_worker}
    if rt.use_gpu:
        resources["GPU"] = rt.gpus_per_worker
    return TorchTrainer(
        train_worker,
        train_loop_config={"train": config, "genotype": genotype},
        torch_config=TorchConfig(backend="nccl" if rt.use_gpu else "gloo"),
        scaling_config=ScalingConfig(
            num_workers=rt.num_workers, use_gpu=rt.use_gpu, resources_per_worker=resources
        ),
        run_config=RunConfig(
            name=name,
            storage_path=storage_path,
            failure_config=FailureConfig(max_failures=rt.max_failures),
            checkpoint_config=CheckpointConfig(num_to_keep=config.keep_checkpoints),
            callbacks=list(callbacks or []),
        ),
    )
