"""NAS-Bench-201 ground truth: a cell's benchmark accuracy looked up from the files users
download with the benchmark, read safely (`trainables.safe_pickle`) and computed by the
official `nats_bench` API. Pure Python and numpy: it runs on the search's workers, no torch.

`files` opens the directory or single file, `cell` turns a cell's record into accuracies,
`lookup` looks cells up by their string, `epoch_metrics` is what a search records each epoch.
"""

from trainables.nb201_benchmark.cell import DATASETS, SCHEDULE, CellResult
from trainables.nb201_benchmark.files import WHERE_TO_GET, BenchmarkError, default_location
from trainables.nb201_benchmark.lookup import (
    STATUS_FOUND,
    STATUS_NOT_IN_BENCHMARK,
    Nb201Benchmark,
    NotInBenchmark,
)

__all__ = [
    "DATASETS", "SCHEDULE", "CellResult", "WHERE_TO_GET", "BenchmarkError", "default_location",
    "STATUS_FOUND", "STATUS_NOT_IN_BENCHMARK", "Nb201Benchmark", "NotInBenchmark",
]
