"""What the project knows about each dataset, in one table: classes, image size, training-set
size, normalisation and the network family it is evaluated with.

The config (allowed names, classes, image size), the loaders (mean/std), `alphadarts inspect`
(input shape, DARTS network family) and `alphadarts bench` (images per epoch) all read this
table, so a dataset's facts cannot disagree between them.
"""

from __future__ import annotations

from dataclasses import dataclass

Stats = tuple[float, float, float]


@dataclass(frozen=True)
class DatasetInfo:
    """One dataset. `None` means "the config decides" (offline datasets take `image_size`,
    synthetic its `synthetic_classes` and `synthetic_samples`)."""

    num_classes: int | None
    image_size: int | None  #: native side in pixels; None: `data.image_size`
    train_images: int | None  #: images the search splits into the weight and α halves
    mean: Stats | None  #: per-channel normalisation; None: the data are made normalised
    std: Stats | None
    network: str  #: DARTS evaluation network family: "cifar" or "imagenet"
    has_loader: bool = True  #: False: known to `inspect` for its shape only


DATASETS: dict[str, DatasetInfo] = {
    "cifar10": DatasetInfo(
        10, 32, 50_000, (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616), "cifar"
    ),
    "cifar100": DatasetInfo(
        100, 32, 50_000, (0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762), "cifar"
    ),
    "imagenet": DatasetInfo(
        1000, 224, 1_281_167, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225), "imagenet"
    ),
    # scikit-learn's 1,797 digits, a fixed 80% of them for training (see trainables.data).
    "digits": DatasetInfo(10, None, 1437, (0.3, 0.3, 0.3), (0.4, 0.4, 0.4), "cifar"),
    "synthetic": DatasetInfo(None, None, None, None, None, "cifar"),
    # any image folder (trainables.image_folder): classes from its folders, resized to
    # `data.image_size`, normalised with ImageNet's statistics (natural images)
    "folder": DatasetInfo(None, None, None, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225), "cifar"),
    # NAS-Bench-201's downsampled ImageNet: no loader here, `inspect` only (its input shape).
    "imagenet16-120": DatasetInfo(120, 16, 151_700, None, None, "cifar", has_loader=False),
}


def loadable_datasets() -> tuple[str, ...]:
    """The names a search config may use (those with a loader)."""
    return tuple(name for name, info in DATASETS.items() if info.has_loader)
