"""Datasets for search and retraining, the weight/α split, and sharded loaders.

Real datasets (CIFAR-10/100 through torchvision; ImageNet and any other image folder,
`folder`, through `trainables.image_folder`) and two offline ones that need no network: `digits` (scikit-learn's bundled 8x8 digits, upsampled,
3 channels) and `synthetic` (class templates plus noise: learnable, any size). Offline
datasets live in memory as tensors: no decoding per step.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset, Subset, TensorDataset
from torch.utils.data.distributed import DistributedSampler

from trainables.config import DataConfig
from trainables.datasets import DATASETS
from trainables.download_check import CIFAR_FILES, check_cifar_obtainable, where_to_put
from trainables.errors import InputError


def check_data_source(config: DataConfig, on_this_machine: bool = True) -> None:
    """Fail at the door, before Ray or any compute starts, on a data source that cannot work.
    `on_this_machine`: the workers run here (a local Ray), so a CIFAR root that holds no
    dataset needs a reachable download host too (on a cluster the workers' nodes decide)."""
    if config.dataset in ("digits", "synthetic"):
        return
    root = Path(config.root).expanduser()
    if config.dataset in ("imagenet", "folder"):
        from trainables.image_folder import check_image_folder  # imports torchvision

        check_image_folder(config.root, config.dataset)
        return
    if root.exists() and not root.is_dir():
        raise InputError(f"data.root={config.root!r} is a file; a directory is needed")
    probe = root if root.exists() else _nearest_existing_parent(root)
    if not os.access(probe, os.R_OK | os.W_OK | os.X_OK):
        raise InputError(
            f"data.root={config.root!r} is not readable and writable; {config.dataset} is "
            "downloaded there on first use"
        )
    if on_this_machine and config.dataset in CIFAR_FILES:
        check_cifar_obtainable(config.dataset, config.root)


def _nearest_existing_parent(path: Path) -> Path:
    while not path.exists():
        path = path.parent
    return path


#: seeds of the fixed draws that carve the holdout and the subsets out of a dataset:
#: constants, not a run's seed, so that every search and training of an experiment (any
#: seed, any trial) sets aside the same images and reads the same subset
HOLDOUT_DRAW = 20221120
SUBSET_DRAW = 20221121

Split = Literal["train", "holdout", "test"]


def load_images(config: DataConfig, split: Split = "train", augment: bool = True) -> Dataset:
    """The dataset's `split`, normalised. "train" is the training set less the holdout
    (`config.holdout`), cut to `config.subset` images; with `augment` it gets the dataset's
    random crops and flips. "holdout" is the set-aside part of the training set, never
    augmented; "test" is the test split."""
    if split not in ("train", "holdout", "test"):
        raise ValueError(f"split {split!r}: allowed: train, holdout, test")
    train = split != "test"
    augment = augment and split == "train"
    if config.dataset == "digits":
        ds = _digits(config.resolved_image_size, train)
    elif config.dataset == "synthetic":
        ds = _synthetic(config, train)
    elif config.dataset in ("cifar10", "cifar100"):
        ds = _cifar(config, train, augment)
    elif config.dataset == "folder":
        ds = _folder(config, train, augment)
    else:
        ds = _imagenet(config, train, augment)
    if not train:
        return ds
    kept, held = holdout_split(len(ds), config.holdout)
    if split == "holdout":
        return Subset(ds, held)
    if config.subset is not None:
        kept = fixed_sample(kept, config.subset, SUBSET_DRAW)
    return ds if len(kept) == len(ds) else Subset(ds, kept)


def holdout_split(n: int, share: float) -> tuple[list[int], list[int]]:
    """(indices kept for training, indices held out): `share` of `n` images drawn by a fixed
    permutation (the same for every run), each part in dataset order."""
    if share <= 0:
        return list(range(n)), []
    held_count = max(1, round(share * n))
    if held_count >= n:
        raise InputError(f"data.holdout={share} leaves no training image of the {n} in the training set")
    order = np.random.default_rng(HOLDOUT_DRAW).permutation(n)
    return sorted(order[held_count:].tolist()), sorted(order[:held_count].tolist())


def fixed_sample(indices: list[int], count: int, draw: int) -> list[int]:
    """`count` of `indices` drawn by a fixed permutation (seed `draw`), in their order: an
    image folder lists its images class by class, so its first N would be its first classes."""
    if count >= len(indices):
        return list(indices)
    chosen = np.random.default_rng(draw).permutation(len(indices))[:count]
    return [indices[i] for i in sorted(chosen.tolist())]


@functools.lru_cache(maxsize=8)
def _digits(size: int, train: bool) -> TensorDataset:
    """Cached per process: a trial process that runs several trials in turn (Tune reuses
    it) prepares each size once. Nothing mutates the tensors (loaders stack copies)."""
    flat, target = _digits_arrays()
    images = torch.tensor(flat, dtype=torch.float32).reshape(-1, 1, 8, 8) / 16.0
    labels = torch.tensor(target, dtype=torch.long)
    # A fixed 80/20 train/test cut (the search then splits the 80% into weight and α halves).
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(2022))
    cut = int(0.8 * len(labels))
    idx = order[:cut] if train else order[cut:]
    images = F.interpolate(images[idx], size=(size, size), mode="bilinear", align_corners=False)
    images = images.expand(-1, 3, -1, -1)
    info = DATASETS["digits"]  # roughly zero mean, unit variance: `zero` fill = mean
    images = (images - info.mean[0]) / info.std[0]
    return TensorDataset(images.contiguous(), labels[idx])


def _digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's bundled digits (1797 images of 8x8, values 0-16, and labels), read
    from its file as `sklearn.datasets.load_digits` reads it, without importing scikit-learn
    (seconds per process, for a read of milliseconds)."""
    import gzip
    import importlib.util

    spec = importlib.util.find_spec("sklearn")
    path = Path(spec.submodule_search_locations[0], "datasets", "data", "digits.csv.gz") if spec else None
    if path is None or not path.is_file():  # another layout: let scikit-learn find it
        from sklearn.datasets import load_digits

        bunch = load_digits()
        return bunch.data, bunch.target
    with gzip.open(path, "rt", encoding="utf-8") as f:
        data = np.loadtxt(f, delimiter=",")
    return data[:, :-1], data[:, -1].astype(int)


def _synthetic(config: DataConfig, train: bool) -> TensorDataset:
    """Class templates (smooth random patterns) plus noise: learnable but not trivial."""
    size, classes = config.resolved_image_size, config.synthetic_classes
    g = torch.Generator().manual_seed(1234)
    coarse = torch.randn(classes, 3, 4, 4, generator=g)
    templates = F.interpolate(coarse, size=(size, size), mode="bilinear", align_corners=False)
    n = config.synthetic_samples if train else max(config.synthetic_samples // 4, classes)
    g = torch.Generator().manual_seed(5678 if train else 91011)
    labels = torch.randint(0, classes, (n,), generator=g)
    noise = torch.randn(n, 3, size, size, generator=g)
    images = templates[labels] + 0.8 * noise
    return TensorDataset(images, labels)


def _download_lock(root: Path):
    from filelock import FileLock

    root.mkdir(parents=True, exist_ok=True)
    return FileLock(str(root / ".download.lock"))


def _cifar(config: DataConfig, train: bool, augment: bool) -> Dataset:
    import torchvision
    from torchvision import transforms as T

    mean, std = DATASETS[config.dataset].mean, DATASETS[config.dataset].std
    steps = [T.RandomCrop(32, padding=4), T.RandomHorizontalFlip()] if (train and augment) else []
    transform = T.Compose(steps + [T.ToTensor(), T.Normalize(mean, std)])
    cls = torchvision.datasets.CIFAR10 if config.dataset == "cifar10" else torchvision.datasets.CIFAR100
    root = Path(config.root).expanduser()
    # One download per node: concurrent workers wait on the lock, then find the files.
    with _download_lock(root):
        try:
            return cls(str(root), train=train, download=True, transform=transform)
        except (OSError, RuntimeError) as exc:  # no network, corrupt archive
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise InputError(
                f"data.root={config.root!r}: could not load or download {config.dataset} ({reason}); "
                f"{where_to_put(config.dataset, root)}"
            ) from exc


def _imagenet(config: DataConfig, train: bool, augment: bool) -> Dataset:
    from torchvision import transforms as T

    from trainables.image_folder import TEST_DIR, TRAIN_DIR, ReadableImageFolder

    mean, std = DATASETS["imagenet"].mean, DATASETS["imagenet"].std
    if train and augment:
        steps = [T.RandomResizedCrop(224), T.RandomHorizontalFlip()]
    else:
        steps = [T.Resize(256), T.CenterCrop(224)]
    folder = Path(config.root).expanduser() / (TRAIN_DIR if train else TEST_DIR)
    transform = T.Compose(steps + [T.ToTensor(), T.Normalize(mean, std)])
    return ReadableImageFolder(folder, transform, config.root)


def _folder(config: DataConfig, train: bool, augment: bool) -> Dataset:
    """Any image folder: every image resized to `data.image_size` (sizes may be mixed),
    flipped at random in the augmented training split."""
    from torchvision import transforms as T

    from trainables.image_folder import TEST_DIR, TRAIN_DIR, ReadableImageFolder

    info, size = DATASETS["folder"], config.resolved_image_size
    steps = [T.Resize((size, size))] + ([T.RandomHorizontalFlip()] if (train and augment) else [])
    folder = Path(config.root).expanduser() / (TRAIN_DIR if train else TEST_DIR)
    return ReadableImageFolder(folder, T.Compose(steps + [T.ToTensor(), T.Normalize(info.mean, info.std)]),
                               config.root)


@dataclass(frozen=True)
class SearchSplits:
    """The training set cut in two: the weight split trains weights, the α split trains α."""

    weights: Dataset
    alpha: Dataset


def split_for_search(dataset: Dataset, train_portion: float, seed: int) -> SearchSplits:
    """A seeded, reproducible permutation cut at `train_portion`."""
    n = len(dataset)
    order = np.random.default_rng(seed).permutation(n).tolist()
    cut = int(round(train_portion * n))
    if cut == 0 or cut == n:
        raise InputError(
            f"data.train_portion={train_portion} leaves an empty split of the {n} training images"
        )
    return SearchSplits(Subset(dataset, order[:cut]), Subset(dataset, order[cut:]))


def sharded_loader(
    dataset: Dataset,
    config: DataConfig,
    seed: int,
    rank: int,
    world_size: int,
    shuffle: bool = True,
    drop_last: bool = True,
    batch_size: int | None = None,
) -> tuple[DataLoader, DistributedSampler]:
    """This rank's shard, reshuffled each epoch by `sampler.set_epoch(epoch)` (seed + epoch),
    in batches of `batch_size` (default: the config's)."""
    sampler = DistributedSampler(
        dataset, num_replicas=world_size, rank=rank, shuffle=shuffle, seed=seed, drop_last=False
    )
    loader = DataLoader(
        dataset,
        batch_size=batch_size or config.batch_size,
        sampler=sampler,
        num_workers=config.loader_workers,
        pin_memory=config.pin_memory,
        drop_last=drop_last,
        persistent_workers=config.loader_workers > 0,
    )
    if drop_last and len(loader) == 0:
        raise InputError(
            f"data.batch_size={config.batch_size} is larger than this worker's shard "
            f"({len(sampler)} images of a {len(dataset)}-image split over {world_size} workers)"
        )
    return loader, sampler
