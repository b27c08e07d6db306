"""Typed configuration for what runs on workers: data, the MIM objective, the search.

These models are validated once, at the door (the CLI or a test), and travel inward as
frozen objects: nothing deeper down re-reads a dict or invents a default. Cross-field rules
that need no I/O (a patch size must divide the image) are checked here, so bad input fails
before any compute starts. Names (spaces, ops, checkpointing modes) are checked against
`search_space.catalog`, which imports no torch: a bad config is answered before torch or Ray
would load. One field reads a file: `search.benchmark`, whose small index says
whether the path is NAS-Bench-201 at all.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from search_space.catalog import CHECKPOINT_MODES, feature_stride, space_names
from trainables.datasets import DATASETS, loadable_datasets


class StrictModel(BaseModel):
    """Unknown keys are errors (a typo must not silently fall back to a default)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class DataSource(StrictModel):
    """Where images come from and how they are batched: shared by the search's and the
    retrain's data sections, which add their own fields and defaults."""

    dataset: str = "digits"
    root: str = Field("data", description="download/cache directory, or ImageFolder root")
    image_size: int = Field(16, gt=0, description="digits/synthetic/folder only; others are native")
    batch_size: int = Field(64, gt=0, description="per-worker batch size")
    loader_workers: int = Field(0, ge=0)
    pin_memory: bool = False
    subset: int | None = Field(
        None, gt=0, description="use only N training images, drawn by a fixed permutation")
    holdout: float = Field(
        0.0, ge=0.0, lt=1.0,
        description="share of the training set set aside (a fixed draw) for ranking genotypes: "
                    "no training reads it; a training with a holdout scores on it, not on the test split")
    synthetic_samples: int = Field(1024, gt=1)
    synthetic_classes: int = Field(10, gt=1)

    @field_validator("dataset")
    @classmethod
    def _known_dataset(cls, name: str) -> str:
        if name not in loadable_datasets():
            raise ValueError(f"allowed: {', '.join(loadable_datasets())}")
        return name

    @property
    def resolved_image_size(self) -> int:
        return DATASETS[self.dataset].image_size or self.image_size

    @property
    def num_classes(self) -> int:
        if self.dataset == "folder":  # its class folders (checked at the door)
            from trainables.image_folder import count_classes

            return count_classes(self.root)
        return DATASETS[self.dataset].num_classes or self.synthetic_classes

    @property
    def network(self) -> str:
        """The DARTS evaluation network family of the dataset: "cifar" or "imagenet"."""
        return DATASETS[self.dataset].network


class DataConfig(DataSource):
    """The search's data: the training set, cut into the weight and the α split."""

    train_portion: float = Field(0.5, gt=0.0, lt=1.0, description="weight split share")


def _registered_space(name: str) -> str:
    """Checked against the registry when validated, so a space registered later counts."""
    if name not in space_names():
        raise ValueError(f"allowed: {', '.join(space_names())}")
    return name


#: a search space's name, as the registry knows it (search and retrain configs alike)
SpaceName = Annotated[str, AfterValidator(_registered_space)]


class ModelConfig(StrictModel):
    space: SpaceName = "darts"
    channels: int = Field(16, gt=0)
    layers: int = Field(8, gt=0, description="DARTS cells; NB201 cells per stage")


class MimConfig(StrictModel):
    """docs/method.md, "Masked image modeling during search"."""

    enabled: bool = Field(True, description="false builds no decoder at all")
    mask_ratio: float = Field(0.5, ge=0.0, lt=1.0)
    patch_size: int = Field(4, gt=0)
    fill: Literal["zero", "token"] = "zero"
    decoder_depth: int = Field(2, ge=0)
    decoder_width: int = Field(64, gt=0)
    norm_target: bool = False
    mim_weight: float = Field(1.0, ge=0.0)
    phases: tuple[Literal["weights", "alpha"], ...] = ("weights", "alpha")

    @property
    def active(self) -> bool:
        """Whether any step adds the reconstruction loss (else: plain DARTS)."""
        return self.enabled and self.mask_ratio > 0 and self.mim_weight > 0 and bool(self.phases)


class OptimConfig(StrictModel):
    """DARTS's optimisers and schedule (Liu et al. 2019) as defaults."""

    w_lr: float = Field(0.025, gt=0)
    w_lr_min: float = Field(0.001, ge=0)
    w_momentum: float = Field(0.9, ge=0, lt=1)
    w_weight_decay: float = Field(3e-4, ge=0)
    grad_clip: float = Field(5.0, gt=0)
    alpha_lr: float = Field(3e-4, gt=0)
    alpha_betas: tuple[float, float] = (0.5, 0.999)
    alpha_weight_decay: float = Field(1e-3, ge=0)


class WorkerResources(StrictModel):
    """How a Ray Train run is spread over workers and what the device may do: shared by
    the search's and the retrain's runtime sections."""

    num_workers: int = Field(1, gt=0)
    use_gpu: bool = False
    cpus_per_worker: float = Field(1.0, gt=0)
    gpus_per_worker: float = Field(1.0, gt=0)
    bf16: bool = False
    channels_last: bool = False
    max_failures: int = Field(0, ge=-1, description="worker-group restarts; -1 = unlimited")


class RuntimeConfig(WorkerResources):
    """The search's runtime: also `compile`, `sync_bn` and `activation_checkpointing`."""

    compile: bool = False
    sync_bn: bool = False
    #: recompute activations in backward instead of keeping them (search_space.checkpointing)
    activation_checkpointing: Literal[CHECKPOINT_MODES] = "none"  # none | first_stage | cells | mixed_ops

    @model_validator(mode="after")
    def _gpu_only_switches(self) -> "RuntimeConfig":
        if self.sync_bn and not self.use_gpu:
            raise ValueError("sync_bn=true needs use_gpu=true (SyncBatchNorm runs on NCCL only)")
        return self


class SearchConfig(StrictModel):
    """One supernet search: everything the search loop reads."""

    seed: int = Field(0, ge=0)
    epochs: int = Field(50, gt=0)
    order: Literal["first", "second"] = "first"
    data: DataConfig = DataConfig()
    model: ModelConfig = ModelConfig()
    mim: MimConfig = MimConfig()
    optim: OptimConfig = OptimConfig()
    runtime: RuntimeConfig = RuntimeConfig()
    benchmark: str | None = Field(
        None, description="NAS-Bench-201 directory (docs/nas-bench-201.md); null: "
                          "$TORCH_HOME/NATS-tss-v1_0-3ffb9-simple when present")

    @field_validator("benchmark")
    @classmethod
    def _benchmark_opens(cls, path: str | None) -> str | None:
        if path is not None:
            from trainables.nb201_benchmark import Nb201Benchmark

            Nb201Benchmark.open(path)  # missing, foreign or unsafe: InputError, a ValueError
        return path

    @model_validator(mode="after")
    def _benchmark_of_the_space(self) -> "SearchConfig":
        if self.benchmark is not None and self.model.space != "nb201":
            raise ValueError(f"benchmark={self.benchmark!r} is allowed only with model.space=nb201 "
                             f"(model.space={self.model.space!r}); set benchmark: null")
        return self

    @model_validator(mode="after")
    def _second_order_in_fp32(self) -> "SearchConfig":
        """DARTS's second-order step differentiates through a finite difference of size
        0.01 / ||grad|| (about 1e-6 per weight): below bf16's resolution at the weights' scale,
        so under bf16 autocast the Hessian term is mostly rounding noise."""
        if self.order == "second" and self.runtime.bf16:
            raise ValueError(
                "order='second' with runtime.bf16=true is not allowed: the finite-difference "
                "Hessian step is below bf16's resolution; use order='first' or runtime.bf16=false"
            )
        return self

    @model_validator(mode="after")
    def _patch_divides_image(self) -> "SearchConfig":
        size = self.data.resolved_image_size
        if self.mim.enabled and size % self.mim.patch_size:
            raise ValueError(
                f"mim.patch_size={self.mim.patch_size} must divide the image size {size} "
                f"(data.dataset={self.data.dataset})"
            )
        return self

    @model_validator(mode="after")
    def _decoder_maps_back_to_the_image(self) -> "SearchConfig":
        """The decoder upsamples the last feature map by the supernet's stride; unless the
        stride divides the image, the stride-2 stages round and the shapes do not meet."""
        size, stride = self.data.resolved_image_size, feature_stride(self.model.space, self.model.layers)
        if self.mim.enabled and size % stride:
            field = "data.image_size" if DATASETS[self.data.dataset].image_size is None else "the image size"
            raise ValueError(
                f"{field}={size} must be a multiple of {stride} (the feature stride of the "
                f"{self.model.space} supernet with model.layers={self.model.layers}), as MIM "
                f"decodes the last feature map back to the image"
            )
        return self
