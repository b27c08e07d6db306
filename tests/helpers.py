"""Helpers shared by unit and integration tests (plain functions; fixtures live in conftest)."""

import json
from pathlib import Path

import torch


def assert_bitwise_equal(a: dict, b: dict) -> None:
    """Same keys, every tensor equal to the last bit and every other value equal."""
    assert a.keys() == b.keys()
    for k in a:
        if torch.is_tensor(a[k]):
            assert torch.is_tensor(b[k]) and torch.equal(a[k], b[k]), k
        else:
            assert a[k] == b[k], k


def with_changes(raw: dict, **changes) -> dict:
    """`raw` with `a__b=v` setting raw["a"]["b"] = v (the tests' tiny config builders)."""
    for key, value in changes.items():
        node = raw
        *path, last = key.split("__")
        for part in path:
            node = node.setdefault(part, {})
        node[last] = value
    return raw


def register_train_checkpoint(run_dir, name: str, epoch: int) -> Path:
    """Record checkpoint folder `name` of epoch `epoch` in `run_dir` as Ray Train does (its
    `checkpoint_manager_snapshot.json`, which `search_run.latest_checkpoint` reads); return
    the folder, created, for the test to fill."""
    folder = Path(run_dir) / name
    folder.mkdir(parents=True, exist_ok=True)
    (Path(run_dir) / "checkpoint_manager_snapshot.json").write_text(json.dumps(
        {"latest_checkpoint_result": {"checkpoint_dir_name": name, "metrics": {"epoch": epoch}}}))
    return folder


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    """`alphadarts ARGV` in-process: (exit code, stdout, stderr)."""
    from orchestrator.cli import main

    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def run_on_two_ranks(fn, *args) -> None:
    """`fn(rank, *args)` in 2 processes, as `torch.multiprocessing.spawn` does, but forked:
    the children inherit torch and the project's modules already imported instead of
    importing them again (seconds per child on a small machine). The callers' workers set
    their own seeds and join a gloo group through a file; the test process holds no threads
    but torch's single intra-op one (tests/conftest.py)."""
    import torch.multiprocessing as mp

    mp.start_processes(fn, args=args, nprocs=2, start_method="fork")


def tiny_search(epochs: int, subset: int, cpus_per_worker: float = 0.5) -> list[str]:
    """`--set` arguments for a DARTS search small enough for an integration test (8x8 digits,
    C=4, 3 cells: seconds per epoch), the tests' own choices (epochs, images, CPUs) given."""
    items = [f"search.epochs={epochs}", f"search.data.subset={subset}", "search.data.image_size=8",
             "search.data.batch_size=16", "search.model.channels=4", "search.model.layers=3",
             "search.mim.patch_size=2", f"search.runtime.cpus_per_worker={cpus_per_worker}"]
    return [arg for item in items for arg in ("--set", item)]


def tiny_proxy() -> list[str]:
    """`--set` arguments for the sweep's objective at integration-test size: each trial's
    genotype trained for one epoch (C=4, 2 cells) before it is scored."""
    items = ["proxy.epochs=1", "proxy.data.subset=128", "proxy.model.channels=4", "proxy.model.layers=2"]
    return [arg for item in items for arg in ("--set", item)]
