"""One cell's ground truth: NAS-Bench-201's accuracy of its network under the benchmark's
200-epoch schedule, on the three datasets, computed by the official API's own `ArchResults`
from the record `trainables.nb201_benchmark.files` read.

Which trained network and which split stand behind "valid" and "test" is the API's mapping
(`nats_bench.api_utils.remap_dataset_set_names`, the one its `find_best` uses): CIFAR-10 valid
is `x-valid` of the network trained on the training half (`cifar10-valid`), CIFAR-10 test is
`ori-test` of the one trained on train + valid (`cifar10`); CIFAR-100 and ImageNet16-120 use
`x-valid` and `x-test`, two halves of the original test set. Accuracies are in percent, as the
benchmark holds them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

#: the benchmark's datasets, by the names its API uses
DATASETS: tuple[str, ...] = ("cifar10", "cifar100", "ImageNet16-120")
#: the training schedule whose results count (NAS-Bench-201's; '12' is a short proxy)
SCHEDULE = "200"


@dataclass(frozen=True)
class Accuracy:
    """Top-1 accuracy in percent after the schedule's last epoch: the API's mean over the
    benchmark's seeds, their population standard deviation, and which seeds."""

    mean: float
    std: float
    seeds: tuple[int, ...]
    split: str  #: "<trained dataset>/<evaluated split>", e.g. "cifar10/ori-test"

    def to_dict(self) -> dict:
        return {"mean": self.mean, "std": self.std, "seeds": list(self.seeds), "split": self.split}


@dataclass(frozen=True)
class DatasetResult:
    valid: Accuracy | None
    test: Accuracy | None
    params_m: float | None  #: parameters, millions (the API's `params`)
    flops_m: float | None  #: FLOPs of one image, millions (the API's `flops`)

    def to_dict(self) -> dict:
        return {"valid": self.valid and self.valid.to_dict(), "test": self.test and self.test.to_dict(),
                "params_m": self.params_m, "flops_m": self.flops_m}


@dataclass(frozen=True)
class CellResult:
    index: int
    arch: str
    epochs: int
    datasets: dict[str, DatasetResult]


def cell_result(index: int, arch: str, record: Mapping) -> CellResult | None:
    """The cell's results under `SCHEDULE`, or None when its record has no such schedule;
    ValueError when the record is not in the API's format or is another cell's."""
    from nats_bench.api_utils import ArchResults

    if SCHEDULE not in record:
        return None
    try:
        results = ArchResults.create_from_state_dict(dict(record[SCHEDULE]))
        datasets = {name: _dataset_result(results, name) for name in DATASETS}
        epochs = results.get_total_epoch()
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, ZeroDivisionError) as exc:
        raise ValueError(f"the record of cell {index} is not NAS-Bench-201's format "
                         f"({type(exc).__name__}: {exc})") from None
    if results.arch_str != arch:
        raise ValueError(f"the record of cell {index} is of cell {results.arch_str!r}, not {arch!r}")
    return CellResult(index, arch, int(epochs), datasets)


def _dataset_result(results, dataset: str) -> DatasetResult:
    from nats_bench.api_utils import remap_dataset_set_names

    valid = _accuracy(results, *remap_dataset_set_names(dataset, "valid"))
    test_dataset, test_split = remap_dataset_set_names(dataset, "test")
    test = _accuracy(results, test_dataset, test_split)
    if test_dataset not in results.get_dataset_names():
        return DatasetResult(valid, test, None, None)
    costs = results.get_compute_costs(test_dataset)
    return DatasetResult(valid, test, float(costs["params"]), float(costs["flops"]))


def _accuracy(results, dataset: str, split: str) -> Accuracy | None:
    if dataset not in results.get_dataset_names():
        return None
    seeds = tuple(results.get_dataset_seeds(dataset))
    mean = float(results.get_metrics(dataset, split)["accuracy"])  # the API's mean over seeds
    per_seed = [float(results.get_metrics(dataset, split, is_random=seed)["accuracy"]) for seed in seeds]
    spread = math.sqrt(sum((a - mean) ** 2 for a in per_seed) / len(per_seed))
    return Accuracy(mean, spread, seeds, f"{dataset}/{split}")
