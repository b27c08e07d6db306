"""What a NAS-Bench-201 search records each epoch about its derived cell: the benchmark's
accuracies (`trainables.metrics.BENCHMARK_METRICS`), looked up on the worker that runs the
epoch, and `bench_status` saying whether the cell was in the benchmark.

Which benchmark: `search.benchmark` when set (checked at the door; gone by now is an error),
else the API's default location when present. Without one every bench_* value is None and
the search says once where to put it; a cell the benchmark lacks is recorded as
`not_in_benchmark` with None values, and the search goes on. So does a cell whose file is
broken or names code (`unreadable`, with a warning naming the file): the benchmark observes
the search, and a damaged copy of it must not cost the run.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from trainables.errors import InputError
from trainables.metrics import BENCHMARK_METRICS
from trainables.nb201_benchmark.files import WHERE_TO_GET, default_location
from trainables.nb201_benchmark.lookup import STATUS_FOUND, STATUS_NOT_IN_BENCHMARK, Nb201Benchmark, NotInBenchmark

STATUS_UNREADABLE = "unreadable"

if TYPE_CHECKING:
    from trainables.config import SearchConfig

log = logging.getLogger(__name__)

#: the benchmark's dataset names -> their key in the metric names
METRIC_KEYS = {"cifar10": "cifar10", "cifar100": "cifar100", "ImageNet16-120": "imagenet16"}


class EpochBenchmark:
    """`metrics(genotype)`: the bench_* metrics of one epoch's derived cell."""

    def __init__(self, benchmark: Nb201Benchmark | None):
        self.benchmark = benchmark
        self._warned: set[str] = set()

    @classmethod
    def for_search(cls, config: SearchConfig) -> EpochBenchmark:
        if config.model.space != "nb201":
            return cls(None)
        if config.benchmark is not None:
            try:
                return cls(Nb201Benchmark.open(config.benchmark))
            except InputError as exc:  # checked at the door: on this worker it is gone or changed
                raise InputError(f"search.benchmark={config.benchmark!r} on this worker: {exc}") from None
        default = default_location()
        if not default.exists():
            log.info("no NAS-Bench-201 benchmark at %s: the epochs record no benchmark accuracy; put "
                     "the directory there or set search.benchmark (%s)", default, WHERE_TO_GET)
            return cls(None)
        try:
            return cls(Nb201Benchmark.open(default))
        except InputError as exc:  # not asked for by name: ignored, loudly
            log.warning("ignored the NAS-Bench-201 benchmark at %s (the default location): %s", default, exc)
            return cls(None)

    def metrics(self, genotype) -> dict:
        values: dict = {m.name: None for m in BENCHMARK_METRICS}
        if self.benchmark is None:
            return values
        try:
            found = self.benchmark.lookup(str(genotype))
        except InputError as exc:
            if str(genotype) not in self._warned:
                self._warned.add(str(genotype))
                log.warning("NAS-Bench-201 record of %s not read: %s", genotype, exc)
            return {**values, "bench_status": STATUS_UNREADABLE}
        if isinstance(found, NotInBenchmark):
            return {**values, "bench_status": STATUS_NOT_IN_BENCHMARK}
        values["bench_status"] = STATUS_FOUND
        for dataset, result in found.datasets.items():
            for split in ("valid", "test"):
                accuracy = getattr(result, split)
                values[f"bench_{METRIC_KEYS[dataset]}_{split}"] = None if accuracy is None else accuracy.mean
        return values
