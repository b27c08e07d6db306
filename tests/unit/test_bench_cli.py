"""`alphadarts bench` at tiny sizes: one JSON object with the documented keys; bad input -> 2.

A DARTS bench takes seconds per cell (7.7 s with 3 cells, 2.2 s with 1 here), an NB201 one with
a cell a stage a fraction of that: DARTS runs once, with one (reduction) cell, as the JSON case
that passes no --space (the config's space; the 3-cell supernet's agreement with the reference
is test_fast_mixed_op's); the text output, whose lines do not depend on the space, is NB201's."""

import json

import pytest
from helpers import run_cli


TINY = ["--batch-size", "2", "--channels", "2", "--image-size", "8", "--steps", "1",
        "--warmup", "0", "--set", "search.mim.patch_size=2"]


@pytest.mark.parametrize("space,layers", [("darts", "1"), ("nb201", "1")])
def test_bench_json_has_the_documented_keys(capsys, space, layers):
    chosen = [] if space == "darts" else ["--space", space]  # no --space: the config's, darts
    code, out, _ = run_cli(capsys, "bench", "--json", *chosen, "--layers", layers,
                       "--compare-reference", *TINY)
    assert code == 0
    report = json.loads(out)
    for variant in ("plain", "mim", "ckpt_cells", "reference"):
        entry = report[variant]
        assert entry["step_ms"] > 0 and entry["images_per_s"] > 0 and entry["peak_mem_mb"] > 0
        assert entry["peak_fraction"] == "unknown"  # CPU: no known peak FLOP rate
    assert report["config"]["space"] == space and report["config"]["batch_size"] == 2
    assert report["macs_per_image"]["supernet"] > 0 and report["macs_per_image"]["mim_decoder"] > 0
    diff = report["max_abs_diff"]
    assert diff["logits"] < 1e-4 and diff["alpha_grad"] <= 1e-4 * max(diff["alpha_grad_scale"], 1)
    assert report["speedup_vs_reference"] > 0
    ckpt = report["checkpointing"]["cells"]  # the default variant: checkpointing per cell
    assert ckpt["saved_memory_vs_plain"] < 0.5 and ckpt["time_vs_plain"] > 0
    assert ckpt["max_abs_diff_vs_plain"] == {"loss": 0, "alpha_grad": 0, "weight_grad": 0, "bn_running_stats": 0}
    estimate = report["estimate"]
    assert estimate["steps_per_epoch"] == 25_000 // 2 and estimate["sweep_s"] > 0


def test_bench_compares_the_cpu_layouts(capsys):
    """C=4 has no conv narrow enough to subsample, so `unguarded` runs the plain step's
    kernels (and cannot reach the AVX2 kernel that aborts); `nchw` is the supernet without
    channels_last."""
    code, out, _ = run_cli(capsys, "bench", "--json", "--layers", "2", "--compare-layouts", *TINY, "--channels", "4")
    assert code == 0
    report = json.loads(out)
    assert report["config"]["compare_layouts"] and report["config"]["channels"] == 4
    assert report["layouts"]["narrow_strided_convs"] == 0
    for name in ("unguarded", "nchw"):
        assert report[name]["step_ms"] > 0 and report[name]["peak_mem_mb"] > 0
        assert report["layouts"][name]["time_vs_plain"] > 0 and report["layouts"][name]["cpu_time_vs_plain"] > 0


def test_bench_text_output(capsys):
    code, out, _ = run_cli(capsys, "bench", "--space", "nb201", "--layers", "1", *TINY)
    assert code == 0 and "ms/step" in out and "MIM adds" in out and "estimate" in out


@pytest.mark.parametrize("argv", [
    ["--batch-size", "0"],
    ["--steps", "-1"],
    ["--device", "tpu"],
    ["--image-size", "6"],  # the MIM patch size 4 does not divide it
    ["--set", "search.mim.mask_ratio=2"],
    ["--config", "no-such-preset"],
    ["--checkpointing", "cells,layers"],
    ["--set", "search.runtime.activation_checkpointing=all"],
    ["--compare-layouts", "--device", "cuda"],
])
def test_bench_bad_input_exits_2_with_one_line(capsys, argv):
    code, out, err = run_cli(capsys, "bench", *argv)
    assert code == 2 and out == ""
    assert err.startswith("alphadarts: error:") and len(err.strip().splitlines()) == 1


def test_bench_compile_times_compiled_twins_beside_eager(capsys, monkeypatch):
    """`--compile` adds `plain+compile` and `mim+compile`, compile time apart. torch.compile is
    stubbed here (inductor takes minutes on a CPU; tests/unit/test_compile.py compiles for real)."""
    import torch

    compiled = []
    monkeypatch.setattr(torch, "compile", lambda module: compiled.append(module) or module)
    code, out, _ = run_cli(capsys, "bench", "--json", "--compile", "--space", "nb201", "--layers", "1", *TINY)
    assert code == 0 and len(compiled) == 2
    report = json.loads(out)
    assert report["config"]["compile"]
    for name in ("plain", "mim"):
        twin = report[f"{name}+compile"]
        assert twin["step_ms"] > 0 and twin["compile_s"] > 0 and twin["peak_mem_mb"] is None
        assert report[name]["peak_mem_mb"] > 0 and "compile_s" not in report[name]
        assert report["compile"][name]["speedup_vs_eager"] > 0
    code, out, _ = run_cli(capsys, "bench", "--compile", "--space", "nb201", "--layers", "1", *TINY)
    assert code == 0 and "plain+compile" in out and "compiling (its first step)" in out
