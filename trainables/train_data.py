"""Data for training a discrete network: the training set sharded over workers, the whole
test set split without padding (so that the summed test accuracy is exact), and cutout.

The images come from `trainables.data.load_images` (train split with crop + flip for the
real datasets, test split without); randomness (shuffling aside) is drawn from torch's
global generator, which the train loop seeds per rank and saves in every checkpoint.
"""

from __future__ import annotations

import torch
from torch.utils.data import DataLoader, Dataset, Subset
from torch.utils.data.distributed import DistributedSampler

from trainables.data import fixed_sample, load_images
from trainables.errors import InputError
from trainables.train_config import TrainDataConfig

#: the fixed draw that cuts the test split to `test_subset` images
TEST_SUBSET_DRAW = 20221122


def train_set_shard(
    config: TrainDataConfig, seed: int, rank: int, world_size: int
) -> tuple[DataLoader, DistributedSampler]:
    """This rank's shard of the training set; reshuffled by `sampler.set_epoch(epoch)`."""
    dataset = load_images(config.loading(), "train", augment=True)
    sampler = DistributedSampler(dataset, num_replicas=world_size, rank=rank, shuffle=True, seed=seed)
    loader = _loader(dataset, config, sampler, drop_last=True)
    if len(loader) == 0:
        raise InputError(
            f"data.batch_size={config.batch_size} is larger than this worker's shard "
            f"({len(sampler)} images of {len(dataset)} over {world_size} workers)"
        )
    return loader, sampler


def test_set_shard(config: TrainDataConfig, rank: int, world_size: int) -> DataLoader:
    """The images a training is scored on: the test split (cut to `test_subset` images by
    a fixed draw), or, for a training with a holdout (a sweep's proxy training), the
    held-out part of the training set, so that ranking genotypes never reads the test split.
    Every `world_size`-th image from `rank` on: the shards cover the set once."""
    if config.holdout > 0:
        dataset = load_images(config.loading(), "holdout")
    else:
        dataset = load_images(config.loading(), "test")
        if config.test_subset is not None:
            kept = fixed_sample(list(range(len(dataset))), config.test_subset, TEST_SUBSET_DRAW)
            dataset = Subset(dataset, kept)
    return _loader(Subset(dataset, range(rank, len(dataset), world_size)), config, None, drop_last=False)


def _loader(dataset: Dataset, config: TrainDataConfig, sampler, drop_last: bool) -> DataLoader:
    return DataLoader(
        dataset,
        batch_size=config.batch_size,
        sampler=sampler,
        shuffle=False,
        num_workers=config.loader_workers,
        pin_memory=config.pin_memory,
        drop_last=drop_last,
        persistent_workers=config.loader_workers > 0,
    )


def cutout(images: torch.Tensor, length: int) -> torch.Tensor:
    """DeVries & Taylor's cutout as DARTS applies it: per image, a `length` x `length` square
    (clipped at the border) around a uniformly drawn centre is set to 0. Returns a new tensor."""
    if length <= 0:
        return images
    n, _, h, w = images.shape
    cy = torch.randint(0, h, (n, 1, 1)).to(images.device)
    cx = torch.randint(0, w, (n, 1, 1)).to(images.device)
    ys = torch.arange(h, device=images.device).view(1, h, 1)
    xs = torch.arange(w, device=images.device).view(1, 1, w)
    half = length // 2
    inside = (ys >= cy - half) & (ys < cy + length - half) & (xs >= cx - half) & (xs < cx + length - half)
    return images * (~inside).unsqueeze(1).to(images.dtype)
