"""Typed configuration for training one discrete network from scratch (the retrain stage).

The genotype is not part of it: the same config trains any genotype of its space. Defaults
are the DARTS CIFAR protocol (docs/method.md, "Evaluation network (CIFAR)"); the presets hold
the others (ImageNet mobile, NAS-Bench-201, small offline ones).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from search_space.catalog import space_facts
from trainables.config import DataConfig, DataSource, SpaceName, StrictModel, WorkerResources


class TrainDataConfig(DataSource):
    """The retrain's data: the training set (all of it) and the test set."""

    dataset: str = "cifar10"
    image_size: int = Field(32, gt=0, description="digits/synthetic only; others are native")
    batch_size: int = Field(96, gt=0, description="per-worker batch size")
    test_subset: int | None = Field(None, gt=0, description="use only N test images, drawn by a fixed permutation")

    def loading(self) -> DataConfig:
        """The search's data config with the same source, for `trainables.data`'s loaders."""
        return DataConfig(**self.model_dump(exclude={"test_subset"}))


class TrainModelConfig(StrictModel):
    channels: int = Field(36, gt=0, description="initial channels C")
    layers: int = Field(20, gt=0, description="DARTS cells; NB201 cells per stage (N)")
    auxiliary: bool = Field(True, description="DARTS only: auxiliary head at cell 2*layers//3")
    auxiliary_weight: float = Field(0.4, ge=0.0)
    drop_path_prob: float = Field(
        0.2, ge=0.0, lt=1.0, description="the final value; ramped linearly from 0 over epochs"
    )


class TrainOptimConfig(StrictModel):
    lr: float = Field(0.025, gt=0)
    lr_min: float = Field(0.0, ge=0, description="cosine schedule: the last epoch's floor")
    schedule: Literal["cosine", "exponential"] = "cosine"
    lr_decay: float = Field(0.97, gt=0, le=1, description="exponential schedule: per epoch")
    momentum: float = Field(0.9, ge=0, lt=1)
    nesterov: bool = False
    weight_decay: float = Field(3e-4, ge=0)
    grad_clip: float | None = Field(5.0, gt=0, description="max gradient norm; null = off")
    label_smoothing: float = Field(0.0, ge=0, lt=1)

    @model_validator(mode="after")
    def _consistent(self) -> "TrainOptimConfig":
        if self.nesterov and self.momentum == 0:
            raise ValueError(f"nesterov=true needs momentum > 0, got momentum={self.momentum}")
        if self.lr_min > self.lr:
            raise ValueError(f"lr_min={self.lr_min} must not exceed lr={self.lr}")
        return self


class TrainRuntimeConfig(WorkerResources):
    """The retrain's runtime (DDP over `num_workers`)."""


class TrainConfig(StrictModel):
    """One training run of a discrete network: everything the train loop reads."""

    space: SpaceName = "darts"
    seed: int = Field(0, ge=0)
    epochs: int = Field(600, gt=0)
    data: TrainDataConfig = TrainDataConfig()
    model: TrainModelConfig = TrainModelConfig()
    optim: TrainOptimConfig = TrainOptimConfig()
    cutout_length: int = Field(16, ge=0, description="cutout square side in pixels; 0 = off")
    runtime: TrainRuntimeConfig = TrainRuntimeConfig()
    keep_checkpoints: int = Field(2, gt=0, description="checkpoints Ray keeps per run")

    @model_validator(mode="after")
    def _fits_the_space(self) -> "TrainConfig":
        space = space_facts(self.space)
        if self.model.auxiliary and not space.auxiliary_head:
            raise ValueError(
                f"model.auxiliary=true is not allowed with space={self.space} (its networks have "
                "no auxiliary head); set model.auxiliary=false"
            )
        if self.data.network not in space.network_sizes:
            raise ValueError(
                f"data.dataset={self.data.dataset!r} needs the {self.data.network} network, which "
                f"space={self.space} does not build; its networks: {', '.join(space.network_sizes)}"
            )
        size = self.data.resolved_image_size
        if self.cutout_length >= size:
            raise ValueError(
                f"cutout_length={self.cutout_length} must be smaller than the {size}-pixel images "
                f"(data.dataset={self.data.dataset}); 0 turns cutout off"
            )
        if self.data.network == "imagenet" and self.model.channels < 2:
            raise ValueError(f"model.channels={self.model.channels} must be >= 2 on imagenet")
        return self
