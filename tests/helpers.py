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


def compiled_and_eager_steps(backend: str, mode: str, steps: int = 2):
    """(eager, compiled with `backend`) runs of `steps` search steps of a one-cell NB201
    supernet with `mode` checkpointing: each (losses, the first step's α and weight gradients,
    the state after). tests/unit/test_compile.py (aot_eager), tests/integration/
    test_compile_inductor.py (inductor)."""
    from search_space import build_supernet
    from trainables.config import MimConfig, OptimConfig
    from trainables.objective import SearchObjective
    from trainables.search_step import SearchStep, build_optimisers

    mim = MimConfig(mask_ratio=0.5, patch_size=2, decoder_depth=1, decoder_width=4)
    runs = []
    for compiled in (False, True):
        torch.manual_seed(0)
        objective = SearchObjective(build_supernet("nb201", 3, 2, 1), mim, seed=0)
        objective.supernet.set_activation_checkpointing(mode)
        w_opt, a_opt, _ = build_optimisers(objective, OptimConfig(), epochs=1)
        forward = torch.compile(objective, backend=backend) if compiled else None
        step = SearchStep(objective, w_opt, a_opt, OptimConfig(), forward=forward)
        grads = {}

        def first_gradients(opt, args, kwargs, name):
            if name not in grads:
                grads[name] = [p.grad.clone() for g in opt.param_groups for p in g["params"] if p.grad is not None]

        for name, opt in (("alpha", a_opt), ("weights", w_opt)):
            opt.register_step_pre_hook(lambda o, a, k, name=name: first_gradients(o, a, k, name))
        g = torch.Generator().manual_seed(1)
        x, y = torch.randn(4, 3, 8, 8, generator=g), torch.randint(0, 3, (4,), generator=g)
        losses = []
        for i in range(steps):
            torch.manual_seed(10 + i)
            mask_a, mask_w = step.sample_masks(x, x)
            losses.append(step.alpha_step(x, y, mask_a, x, y, mask_w).total.detach())
            losses.append(step.weights_step(x, y, mask_w).total.detach())
        runs.append((torch.stack(losses), grads, {k: v.clone() for k, v in objective.state_dict().items()}))
    return runs


def assert_compiled_step_equals_eager(eager, compiled, tol: float) -> None:
    (l1, g1, s1), (l2, g2, s2) = eager, compiled
    torch.testing.assert_close(l2, l1, rtol=tol, atol=tol)
    for name in g1:
        for a, b in zip(g1[name], g2[name], strict=True):
            torch.testing.assert_close(b, a, rtol=tol, atol=tol)
    assert s1.keys() == s2.keys()
    for key in s1:  # α, weights, BN running statistics (updated once: not again by a recompute)
        torch.testing.assert_close(s2[key], s1[key], rtol=tol, atol=tol, msg=key)
