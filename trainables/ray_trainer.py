"""One `TorchTrainer` for a loop function: N workers with the resources of a runtime section,
gloo on CPU and NCCL on GPU, a deterministic run name (a run started again with the same
(storage_path, name) resumes from its latest checkpoint), and `max_failures` worker-group
restarts. The search and the train loop both run through it."""

from __future__ import annotations

import logging
from collections.abc import Callable

from ray.train import CheckpointConfig, FailureConfig, RunConfig, ScalingConfig
from ray.train.torch import TorchConfig, TorchTrainer

from trainables.config import WorkerResources

#: Ray Train V2 logs every `ray.train.report` at INFO with its whole metrics dict ("Reporting
#: training result ...": α and the genotype, kilobytes per epoch, forwarded to the driver's
#: console; its logger is named after the module's file, `logging.getLogger(__file__)`), and
#: every checkpoint's path ("Checkpoint successfully created at ...", a module-named logger;
#: the result tables record the path).
_QUIET_MODULES = ("ray.train.v2._internal.execution.context", "ray.train.v2._internal.execution.storage")


def quiet_train_worker() -> None:
    """Called first on each Train worker: raise Ray Train's per-report and per-checkpoint
    loggers to WARNING. Nothing is lost: every reported metric reaches the Tune result, the
    tables and the checkpoints; only the log lines repeating them go."""
    import importlib

    for module_name in _QUIET_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ImportError:  # another Ray layout: nothing to silence there
            continue
        for name in (module.__file__, module.__name__):
            logging.getLogger(name).setLevel(logging.WARNING)


class _TorchTrainer(TorchTrainer):
    """A `TorchTrainer` that starts no dataset manager for a run without Ray Datasets.

    Ray Train V2 gives every run a `DatasetManager` actor, whether or not the run has
    datasets: one more process, which imports Ray Train and Ray Data (seconds of CPU) only
    to serve shards no worker asks for. The search and the train loop read their
    data themselves, so their runs have none. With datasets, the callback stays.

    `_create_default_callbacks` is Ray Train V2's own (private) method: a Ray release that
    renames it never calls this override, and runs get the dataset manager again, nothing
    worse. tests/unit/test_ray_trainer.py notices that.
    """

    def _create_default_callbacks(self):
        callbacks = super()._create_default_callbacks()
        if self.datasets:
            return callbacks
        return [c for c in callbacks if type(c).__name__ != "DatasetsCallback"]


def torch_trainer(
    worker: Callable[[dict], None], loop_config: dict, runtime: WorkerResources,
    storage_path: str, name: str, keep_checkpoints: int, callbacks: list | None = None,
) -> TorchTrainer:
    resources = {"CPU": runtime.cpus_per_worker}
    if runtime.use_gpu:
        resources["GPU"] = runtime.gpus_per_worker
    return _TorchTrainer(
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
