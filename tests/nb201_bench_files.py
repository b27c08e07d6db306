"""NAS-Bench-201 files for tests: the official two-file sample (tests/data/nats-bench-tss/),
and cells, single files and hostile pickles written in the same format."""

from __future__ import annotations

import bz2
import copy
import pickle
import shutil
from pathlib import Path

from trainables.safe_pickle import load_bz2_pickle

SAMPLE = Path(__file__).parent / "data" / "nats-bench-tss" / "NATS-tss-v1_0-3ffb9-simple"
CELL_11 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|none~0|nor_conv_3x3~1|avg_pool_3x3~2|"
#: the benchmark's split behind "valid" and "test" of each dataset, per the official API
SPLITS = {
    "cifar10": {"valid": ("cifar10-valid", "x-valid"), "test": ("cifar10", "ori-test")},
    "cifar100": {"valid": ("cifar100", "x-valid"), "test": ("cifar100", "x-test")},
    "ImageNet16-120": {"valid": ("ImageNet16-120", "x-valid"), "test": ("ImageNet16-120", "x-test")},
}


def write_bz2_pickle(path: Path, data) -> Path:
    path.write_bytes(bz2.compress(pickle.dumps(data, protocol=4)))
    return path


def sample_copy(target: Path) -> Path:
    """A writable copy of the sample directory."""
    shutil.copytree(SAMPLE, target)
    return target


def meta_archs() -> list[str]:
    return load_bz2_pickle(SAMPLE / "meta.pickle.pbz2")["meta_archs"]


def forged_record(arch: str, index: int, shift: float) -> dict:
    """Cell 11's record re-labelled as cell `index` (`arch`), every accuracy moved by `shift`."""
    record = copy.deepcopy(load_bz2_pickle(SAMPLE / "000011.pickle.pbz2"))
    for schedule in record.values():
        schedule["arch_index"], schedule["arch_str"] = index, arch
        for result in schedule["all_results"].values():
            result["eval_acc1es"] = {k: v + shift for k, v in result["eval_acc1es"].items()}
    return record


def write_cell(directory: Path, arch: str, shift: float) -> int:
    """A record for `arch` in `directory` (a copy of the sample), named as the API names it."""
    index = meta_archs().index(arch)
    write_bz2_pickle(directory / f"{index:06d}.pickle.pbz2", forged_record(arch, index, shift))
    return index


def expected_accuracy(record: dict, dataset: str, split: str) -> tuple[float, float]:
    """(mean, population std) over the seeds of the 200-epoch schedule's last epoch, read
    straight from the record's dicts (no nats_bench)."""
    trained, evaluated = SPLITS[dataset][split]
    schedule = record["200"]
    values = [schedule["all_results"][(trained, seed)]["eval_acc1es"][f"{evaluated}@199"]
              for seed in schedule["dataset_seed"][trained]]
    mean = sum(values) / len(values)
    return mean, (sum((v - mean) ** 2 for v in values) / len(values)) ** 0.5


def hostile_pickle(marker: Path) -> bytes:
    """A bzip2 pickle naming `os.system` that would create `marker` if loaded plainly."""
    return bz2.compress(f"cos\nsystem\n(S'touch {marker}'\ntR.".encode())
