"""The sizes the doctor checks at, as validated configs (read through the config door like
any preset): the step checks' fp32 eager search and retrain, and the Ray Train search.

Full (a GPU): the CIFAR-10 preset's search and retrain (DARTS C=16, batch 64 of 32x32, MIM
as the preset; the retrain C=36, 20 cells, batch 96), but a 5-cell supernet instead of 8:
compiling an 8-cell one is expected to take minutes per compiled switch, and the check must
fit 8 minutes on one GPU. `alphadarts bench --device cuda` times the full-size step.
Quick (CI on a CPU): the smallest DARTS sizes that still have every cell kind (3 cells),
8x8 images, batch 8; the retrain at the quickstart's 16x16 with 3 cells, batch 16.
The Ray Train search is the quickstart's (offline digits), 2 epochs.
"""

from __future__ import annotations

from dataclasses import dataclass

from orchestrator.config import ExperimentConfig, load_config

FP32_EAGER = ["search.runtime.bf16=false", "search.runtime.channels_last=false", "search.runtime.compile=false",
              "search.runtime.activation_checkpointing=none", "retrain.runtime.bf16=false",
              "retrain.runtime.channels_last=false"]
FULL = ("cifar10", ["search.model.layers=5"])
QUICK = ("quickstart", ["search.model.channels=4", "search.model.layers=3", "search.data.batch_size=8",
                        "retrain.model.channels=4", "retrain.model.layers=3", "retrain.data.batch_size=16"])
#: the Ray Train search: the quickstart for 2 epochs (--quick: 64 images, C=4, 3 cells, as the
#: integration tests' searches); on GPUs with the GPU presets' switches (bf16, channels_last)
RAY_SEARCH = ["search.epochs=2", "name=doctor-search"]
RAY_QUICK = ["search.data.subset=64", "search.model.channels=4", "search.model.layers=3"]
RAY_GPU = ["search.runtime.use_gpu=true", "search.runtime.bf16=true", "search.runtime.channels_last=true"]
#: the 2-GPU search: NCCL, and SyncBatchNorm under bf16 autocast (not run anywhere else)
RAY_TWO_GPUS = ["search.runtime.num_workers=2", "search.runtime.sync_bn=true", "name=doctor-search-2gpu"]


@dataclass(frozen=True)
class CheckSizes:
    steps: ExperimentConfig  # .search and .retrain: the fp32 eager baselines of the step checks
    warmup: int  # steps run before the timed ones (the first one compiles, where compiled)
    timed: int

    @property
    def search_image(self) -> int:
        return self.steps.search.data.resolved_image_size

    @property
    def retrain_image(self) -> int:
        return self.steps.retrain.data.resolved_image_size


def check_sizes(quick: bool) -> CheckSizes:
    preset, overrides = QUICK if quick else FULL
    return CheckSizes(load_config(preset, [*overrides, *FP32_EAGER]), warmup=1 if quick else 2,
                      timed=2 if quick else 5)


def ray_search_config(quick: bool, storage: str, gpus: int) -> ExperimentConfig:
    """`gpus`: 0 (on CPU), 1, or 2 (the two-worker NCCL search)."""
    overrides = [*RAY_SEARCH, f"output_dir={storage}", *(RAY_QUICK if quick else [])]
    if gpus:
        overrides += RAY_GPU
    if gpus >= 2:
        overrides += RAY_TWO_GPUS
    return load_config("quickstart", overrides)
