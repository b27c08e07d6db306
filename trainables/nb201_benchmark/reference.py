"""Published NAS-Bench-201 test accuracies (%, 200-epoch schedule) that every comparison with
the benchmark carries as reference lines, keyed by the benchmark's dataset names."""

from __future__ import annotations

#: name -> (where it is published, {dataset: test accuracy %})
REFERENCE_TEST_ACCURACY: dict[str, tuple[str, dict[str, float]]] = {
    "optimum": ("the best cell of the benchmark (Dong & Yang, ICLR 2020, Table 5)",
                {"cifar10": 94.37, "cifar100": 73.51, "ImageNet16-120": 47.31}),
    "DARTS all-skip": ("DARTS's collapse to the all-skip cell (same table)", {"cifar10": 54.30}),
    "αDARTS paper": ("the αDARTS paper's reported cell", {"cifar10": 94.30, "cifar100": 73.16, "ImageNet16-120": 46.34}),
}
