"""One `TorchTrainer` for a loop function: N workers with the resources of a runtime section,
gloo on CPU and NCCL on GPU, a deterministic run name (a run started again with the same
(storage_path, name) resumes from its latest checkpoint), and `max_failures` worker-group
restarts. The search and the train loop both run through it."""

from __future__ import annotations

from collections.abc import Callable

from ray.train import CheckpointConfig, FailureConfig, RunConfig, ScalingConfig
from ray.train.torch import TorchConfig, TorchTrainer

from trainables.config import WorkerResources


def torch_trainer(
    worker: Callable[[dict], None], loop_config: dict, runtime: WorkerResources,
    storage_path: str, name: str, keep_checkpoints: int, callbacks: list | None = None,
) -> TorchTrainer:
    resources = {"CPU": runtime.cpus_per_worker}
    if runtime.use_gpu:
        resources["GPU"] = runtime.gpus_per_worker
    return TorchTrainer(
        worker,
        train_loop_config=loop_config,
        torch_config=TorchConfig(backend="nccl" if runtime.use_gpu else "gloo"),
        scaling_config=ScalingConfig(
            num_workers=runtime.num_workers, use_gpu=runtime.use_gpu, resources_per_worker=resources
        ),
        run_config=RunConfig(
            name=name,
            storage_path=storage_path,
            failure_config=FailureConfig(max_failures=runtime.max_failures),
            checkpoint_config=CheckpointConfig(num_to_keep=keep_checkpoints),
            callbacks=list(callbacks or []),
        ),
    )
