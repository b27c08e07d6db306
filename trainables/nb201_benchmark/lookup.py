"""Looking a cell up in NAS-Bench-201: its `CellResult`, or a `NotInBenchmark` saying why
not (the two-file sample holds cell 11 only), never an exception for a cell that is absent.

Results are cached per benchmark object, small as they are (the raw record of a cell, some
3 MB unpickled, is dropped once its accuracies are read): a search derives the same few cells
epoch after epoch.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from trainables.nb201_benchmark.cell import CellResult, cell_result
from trainables.nb201_benchmark.files import (
    EXPECTED,
    NUM_CELLS,
    WHERE_TO_GET,
    BenchmarkError,
    BenchmarkFiles,
)

STATUS_FOUND = "found"
STATUS_NOT_IN_BENCHMARK = "not_in_benchmark"


@dataclass(frozen=True)
class NotInBenchmark:
    arch: str
    index: int | None  #: its index in the benchmark's list of cells, when it has one
    reason: str


class Nb201Benchmark:
    """An opened benchmark (directory or single file): `lookup(cell string)`."""

    def __init__(self, files: BenchmarkFiles):
        self.files = files
        self._found: dict[str, CellResult | NotInBenchmark] = {}

    @classmethod
    def open(cls, path: str | os.PathLike) -> Nb201Benchmark:
        return cls(BenchmarkFiles.open(path))

    @property
    def path(self):
        return self.files.path

    def lookup(self, arch: str) -> CellResult | NotInBenchmark:
        """`arch` in the benchmark's own string format (`str(Nb201Genotype)`)."""
        if arch not in self._found:
            self._found[arch] = self._read(arch)
        return self._found[arch]

    def _read(self, arch: str) -> CellResult | NotInBenchmark:
        index = self.files.index.get(arch)
        if index is None:
            return NotInBenchmark(arch, None, f"the benchmark's {NUM_CELLS:,} cells do not include it")
        record = self.files.record(index)
        if record is None:
            where = (f"no file {index:06d}.pickle.pbz2 in {self.files.path}" if self.files.form == "directory"
                     else f"no record of cell {index} in {self.files.path}")
            return NotInBenchmark(arch, index, f"{where}: this copy of the benchmark lacks it; "
                                               f"the full release holds all {NUM_CELLS:,} cells ({WHERE_TO_GET})")
        try:
            result = cell_result(index, arch, record)
        except ValueError as exc:
            raise BenchmarkError(f"{exc}; it is not {EXPECTED}") from None
        if result is None:
            return NotInBenchmark(arch, index, "its record has no 200-epoch results")
        return result
