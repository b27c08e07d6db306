"""NAS-Bench-201 (NATS-Bench's topology search space, "tss") as users download it, opened
read-only and through `trainables.safe_pickle` only.

Two forms, the ones the official `nats_bench` API reads: the directory
`NATS-tss-v1_0-3ffb9-simple/` (`create(path, 'tss', fast_mode=True)`: `meta.pickle.pbz2`, the
index of all 15,625 cells, and one `NNNNNN.pickle.pbz2` per cell, read when a cell is asked
for) and the single file `NATS-tss-v1_0-3ffb9.pickle.pbz2` (`fast_mode=False`: the index and
every cell's record in one pickle, read whole). The API itself calls `pickle.load` on them;
this module reads the same files, in the API's layout, with the allow-list unpickler instead,
and hands each cell's record to the API's own `ArchResults` (`trainables.nb201_benchmark.cell`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from trainables.errors import InputError
from trainables.safe_pickle import UnreadablePickleError, load_bz2_pickle

BASE_NAME = "NATS-tss-v1_0-3ffb9"
PICKLE_EXT = "pickle.pbz2"
DIRECTORY_NAME = f"{BASE_NAME}-simple"
SINGLE_FILE_NAME = f"{BASE_NAME}.{PICKLE_EXT}"
META_FILE = f"meta.{PICKLE_EXT}"
NUM_CELLS = 15625  #: 5 ops on each of 6 edges

EXPECTED = (f"NAS-Bench-201's topology-search directory {DIRECTORY_NAME}/ ({META_FILE} and one "
            f"NNNNNN.{PICKLE_EXT} per cell) or its single file {SINGLE_FILE_NAME}")
WHERE_TO_GET = (f"get {DIRECTORY_NAME}.tar from the NATS-Bench release (github.com/D-X-Y/NATS-Bench) "
                "and extract it (docs/nas-bench-201.md)")


class BenchmarkError(InputError):
    """A benchmark path that is missing or not NAS-Bench-201's (exit 2). The message is what
    follows `FIELD=PATH: ` in the line the user reads; callers add the field."""


def default_location() -> Path:
    """Where the official API looks when given no path: `$TORCH_HOME`, else `~/.torch`."""
    home = os.environ.get("TORCH_HOME") or os.path.join(os.path.expanduser("~"), ".torch")
    return Path(home) / DIRECTORY_NAME


class BenchmarkFiles:
    """The benchmark's index (cell string -> index) and each cell's raw record: a dict by
    training schedule ('12', '200' epochs) of `ArchResults.state_dict()`s."""

    def __init__(self, path: Path, index: dict[str, int], records: Mapping | None):
        self.path = path
        self.index = index
        self._records = records  # the single-file form's every record; None for the directory

    @classmethod
    def open(cls, path: str | os.PathLike) -> BenchmarkFiles:
        """Reads the index (some 20 ms for the directory form); BenchmarkError when `path` is
        missing or is not the benchmark, UnsafePickleError when a file names code."""
        root = Path(path).expanduser()
        if not root.exists():
            raise BenchmarkError(f"does not exist; expected {EXPECTED}; {WHERE_TO_GET}")
        if root.is_dir():
            if not (root / META_FILE).is_file():
                raise BenchmarkError(f"holds no {META_FILE}, so it is not {EXPECTED}; {WHERE_TO_GET}")
            meta, records = _as_mapping(_read(root / META_FILE)), None
        else:
            meta = _as_mapping(_read(root))
            records = meta.get("arch2infos")
            if not isinstance(records, Mapping):
                hint = " (give the directory that holds it)" if root.name == META_FILE else ""
                raise BenchmarkError(f"holds no per-cell records ('arch2infos'){hint}, so it is not {EXPECTED}")
        return cls(root, _cell_index(meta), records)

    @property
    def form(self) -> str:
        return "file" if self._records is not None else "directory"

    def cell_file(self, index: int) -> Path | None:
        """The directory form's file of cell `index`, named as the API names it."""
        for name in (f"{index:06d}.{PICKLE_EXT}", f"{index:d}.{PICKLE_EXT}"):
            if (self.path / name).is_file():
                return self.path / name
        return None

    def record(self, index: int) -> Mapping | None:
        """Cell `index`'s raw record, or None when this copy of the benchmark lacks it."""
        if self._records is not None:
            record = self._records.get(index)
        else:
            file = self.cell_file(index)
            record = None if file is None else _read(file)
        if record is not None and not isinstance(record, Mapping):
            raise BenchmarkError(f"the record of cell {index} is a {type(record).__name__}, not "
                                 f"a dict by training schedule: this is not {EXPECTED}")
        return record


def _read(file: Path) -> object:
    """The safe unpickler's object; a file that is no bzip2 pickle is no benchmark file."""
    try:
        return load_bz2_pickle(file)
    except UnreadablePickleError as exc:
        raise BenchmarkError(f"{exc}, so it is not {EXPECTED}; {WHERE_TO_GET}") from None


def _as_mapping(data: object) -> Mapping:
    if not isinstance(data, Mapping):
        raise BenchmarkError(f"its index is a {type(data).__name__}, not the benchmark's dict: it is "
                             f"not {EXPECTED}")
    return data


def _cell_index(meta: Mapping) -> dict[str, int]:
    """Cell string -> index, from the index's `meta_archs`; BenchmarkError for another
    benchmark's index (NATS-Bench's size space holds 32,768 channel lists instead)."""
    archs = meta.get("meta_archs")
    if (not isinstance(archs, list) or len(archs) != NUM_CELLS
            or not all(isinstance(a, str) and a.startswith("|") for a in archs)):
        held = f"{len(archs)} entries" if isinstance(archs, list) else "no 'meta_archs' list"
        raise BenchmarkError(f"its index holds {held}, not the {NUM_CELLS:,} cell strings of the "
                             f"topology space, so it is not {EXPECTED}")
    return {arch: i for i, arch in enumerate(archs)}
