"""The train loop under Ray Train: one `TorchTrainer`, N workers (DDP over gloo on CPU,
NCCL on GPU). A run restarted with the same (storage_path, name) resumes from its latest
checkpoint; `runtime.max_failures` lets Ray replace lost workers, resuming likewise.
"""

from __future__ import annotations

from ray.train import CheckpointConfig, FailureConfig, RunConfig, ScalingConfig
from ray.train.torch import TorchConfig, TorchTrainer

from search_space import Genotype, genotype_from_dict
from trainables.distributed import Collective
from trainables.reporters import RayTrainReporter
from trainables.train_config import TrainConfig
from trainables.train_loop import run_train


def train_worker(config: dict) -> None:
    """`train_loop_per_worker`: {"train": TrainConfig as JSON, "genotype": its dict}."""
    import json

    import ray.train.torch

    train = TrainConfig.model_validate(config["train"])
    genotype = genotype_from_dict(json.loads(config["genotype"]), train.space)
    run_train(train, genotype, RayTrainReporter(), Collective.current(ray.train.torch.get_device()))


def build_train_trainer(
    config: TrainConfig, genotype: Genotype, storage_path: str, name: str, callbacks: list | None = None
) -> TorchTrainer:
    rt = config.runtime
    resources = {"CPU": rt.cpus_per_worker}
    if rt.use_gpu:
        resources["GPU"] = rt.gpus_per_worker
    return TorchTrainer(
        train_worker,
        train_loop_config={"train": config.model_dump(mode="json"), "genotype": genotype.to_json()},
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
