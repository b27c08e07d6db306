"""The search loop under Ray Train: one `TorchTrainer`, N workers, gloo on CPU, NCCL on GPU.

Ray Train sets up the process group and the device; the loop averages gradients itself
(see `trainables.distributed`). A run restarted with the same (storage_path, name) resumes
from its latest checkpoint, and `runtime.max_failures` lets Ray replace lost workers, each
time resuming from that checkpoint.
"""

from __future__ import annotations

from ray.train import CheckpointConfig, FailureConfig, RunConfig, ScalingConfig
from ray.train.torch import TorchConfig, TorchTrainer

from trainables.config import SearchConfig
from trainables.distributed import Collective
from trainables.reporters import LastReportHeld, RayTrainReporter
from trainables.search_loop import run_search
from trainables.train_config import TrainConfig
from trainables.train_loop import proxy_accuracy


def search_worker(loop_config: dict) -> None:
    """`train_loop_per_worker`: the search config arrives as the validated object itself
    (Ray pickles it), so it is not dumped and validated again on the way. With a `proxy`
    training config, the derived genotype is then trained from scratch on the same workers
    and its test accuracy reported with the search's last epoch (`proxy_acc`)."""
    import ray.train.torch

    collective = Collective.current(ray.train.torch.get_device())
    search, proxy = loop_config["search"], loop_config.get("proxy")
    if proxy is None:
        run_search(search, RayTrainReporter(), collective)
        return
    reporter = LastReportHeld(RayTrainReporter(), last_epoch=search.epochs, pending=("proxy_acc",))
    outcome = run_search(search, reporter, collective)
    reporter.release({"proxy_acc": proxy_accuracy(proxy, outcome.genotype, collective)},
                     outcome.history[-1])



def build_search_trainer(
    config: SearchConfig, storage_path: str, name: str, callbacks: list | None = None,
    proxy: TrainConfig | None = None,
) -> TorchTrainer:
    rt = config.runtime
    resources = {"CPU": rt.cpus_per_worker}
    if rt.use_gpu:
        resources["GPU"] = rt.gpus_per_worker
    return TorchTrainer(
        search_worker,
        train_loop_config={"search": config, "proxy": proxy},
        torch_config=TorchConfig(backend="nccl" if rt.use_gpu else "gloo"),
        scaling_config=ScalingConfig(
            num_workers=rt.num_workers, use_gpu=rt.use_gpu, resources_per_worker=resources
        ),
        run_config=RunConfig(
            name=name,
            storage_path=storage_path,
            failure_config=FailureConfig(max_failures=rt.max_failures),
            checkpoint_config=CheckpointConfig(num_to_keep=2),
            callbacks=list(callbacks or []),
        ),
    )
