"""`alphadarts bench --max-batch`: the doubling-then-bisection search, driven by an injected
"fits(batch)" predicate (no GPU needed), its report, and the CPU refusal."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import run_cli
from orchestrator.bench.max_batch import largest_fitting, max_batch_report
from orchestrator.bench.run import BenchSpec
from trainables.config import SearchConfig


@settings(max_examples=200, deadline=None)
@given(capacity=st.integers(0, 5000), start=st.integers(1, 300))
def test_finds_the_largest_batch_that_fits(capacity, start):
    found = largest_fitting(lambda b: b <= capacity, start=start, limit=4096)
    assert found.largest == min(capacity, 4096)
    # doubling then bisection: logarithmically many tries, none repeated
    batches = [b for b, _ in found.tried]
    assert len(batches) == len(set(batches)) <= 2 * 13 + 2
    assert all(ok == (b <= capacity) for b, ok in found.tried)


def test_tries_double_then_bisect():
    found = largest_fitting(lambda b: b <= 100, start=16)
    assert [b for b, _ in found.tried] == [16, 32, 64, 128, 96, 112, 104, 100, 102, 101]
    assert found.largest == 100


def test_nothing_fits():
    found = largest_fitting(lambda b: False, start=8)
    assert found.largest == 0 and [b for b, _ in found.tried] == [8, 4, 2, 1]


def test_start_outside_the_range_is_refused():
    with pytest.raises(ValueError, match="start=0"):
        largest_fitting(lambda b: True, start=0)


def test_report_covers_plain_and_each_checkpointing_mode():
    """The report asks one predicate per mode; here a fake device where checkpointing
    quadruples what fits."""
    capacity = {"none": 300, "cells": 1200}

    def fake_fits(spec, mode, peaks):
        def fits(b):
            peaks[b] = b * 2**20
            return b <= capacity[mode]
        return fits

    spec = BenchSpec(SearchConfig(), image_size=32, device="cpu", checkpointing=("cells",))
    report = max_batch_report(spec, fits_for=fake_fits)
    assert {m: r["batch_size"] for m, r in report["largest_batch"].items()} == capacity
    assert report["largest_batch"]["cells"]["peak_mem_mb"] == 1200
    assert report["config"]["space"] == "darts"


def test_max_batch_on_cpu_exits_2_with_one_line(capsys):
    code, out, err = run_cli(capsys, "bench", "--max-batch")
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "--max-batch" in err and "cuda" in err


# --- what a try runs and what "does not fit" means ----------------------------------------
# The predicate itself, on CPU, with a tiny supernet; the step it tries is patched to fail
# as a device would above a batch of FITS.

FITS = 5


def _tiny_spec(checkpointing=(), **runtime) -> BenchSpec:
    search = SearchConfig.model_validate({
        "data": {"dataset": "digits", "image_size": 8, "batch_size": 2},
        "model": {"channels": 2, "layers": 1},
        "mim": {"patch_size": 2, "decoder_depth": 0, "decoder_width": 4},
        "runtime": {"use_gpu": True, **runtime},  # the switches a GPU search may have; run on CPU
    })
    return BenchSpec(search, image_size=8, device="cpu", checkpointing=checkpointing)


def _failing_above(monkeypatch, error: BaseException, *, run_below: bool = False) -> list:
    """SearchStep.alpha_step raises `error` for batches above FITS; below, the step runs
    (`run_below`) or is skipped (quicker; the clean passes still run). The steps it saw."""
    from trainables.search_step import SearchStep

    originals, seen = (SearchStep.alpha_step, SearchStep.weights_step), []

    def alpha_step(self, xa, *args, **kwargs):
        seen.append((len(xa), self))
        if len(xa) > FITS:
            raise error
        return originals[0](self, xa, *args, **kwargs) if run_below else None

    def weights_step(self, *args, **kwargs):
        return originals[1](self, *args, **kwargs) if run_below else None

    monkeypatch.setattr(SearchStep, "alpha_step", alpha_step)
    monkeypatch.setattr(SearchStep, "weights_step", weights_step)
    return seen


def _compile_failure(inner: BaseException) -> BaseException:
    from torch._dynamo.exc import BackendCompilerFailed

    try:
        raise BackendCompilerFailed(lambda gm, inputs: gm, inner, None) from inner
    except BackendCompilerFailed as exc:
        return exc


@pytest.mark.parametrize("error", [
    torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"),
    RuntimeError("cuDNN error: CUDNN_STATUS_ALLOC_FAILED"),
    RuntimeError("CUDA error: CUBLAS_STATUS_ALLOC_FAILED when calling `cublasCreate(handle)`"),
    RuntimeError("CUDA error: out of memory"),
], ids=["allocator", "cudnn", "cublas", "driver"])
def test_every_allocation_failure_means_does_not_fit(monkeypatch, error):
    _failing_above(monkeypatch, error)
    report = max_batch_report(_tiny_spec())
    assert report["largest_batch"]["none"]["batch_size"] == FITS


def test_steps_that_run_and_fail_above_a_batch(monkeypatch):
    """The same with the steps really run below FITS, plain and checkpointed."""
    _failing_above(monkeypatch, RuntimeError("cuDNN error: CUDNN_STATUS_ALLOC_FAILED"), run_below=True)
    report = max_batch_report(_tiny_spec(checkpointing=("cells",)))
    assert {m: r["batch_size"] for m, r in report["largest_batch"].items()} == {"none": FITS, "cells": FITS}


def test_an_out_of_memory_inside_compilation_means_does_not_fit(monkeypatch):
    """With compile on, the first call compiles; a compilation that runs out of memory comes
    wrapped in Dynamo's BackendCompilerFailed. (The step below FITS is not run: compiling with
    inductor takes minutes on a CPU.)"""
    wrapped = _compile_failure(torch.cuda.OutOfMemoryError("CUDA out of memory (autotuning)"))
    _failing_above(monkeypatch, wrapped)
    resets = []
    monkeypatch.setattr(torch._dynamo, "reset", lambda: resets.append(1))
    report = max_batch_report(_tiny_spec(compile=True))
    assert report["largest_batch"]["none"]["batch_size"] == FITS and report["config"]["compile"]
    assert len(resets) == sum(r["tries"] for r in report["largest_batch"].values())  # a fresh compile per try


@pytest.mark.parametrize("error", [
    RuntimeError("mat1 and mat2 shapes cannot be multiplied (4x8 and 16x10)"),
    _compile_failure(TypeError("unsupported operand")),
], ids=["runtime", "compile"])
def test_any_other_error_is_raised_not_read_as_too_big(monkeypatch, error):
    _failing_above(monkeypatch, error)
    with pytest.raises(type(error)):
        max_batch_report(_tiny_spec())


def test_the_clean_passes_are_part_of_what_must_fit(monkeypatch):
    """A device where any gradient-free forward of more than 200 images runs out of memory:
    the clean passes read 256 at least (CLEAN_PASS_BATCH), so no batch fits, however small."""
    from search_space.darts.supernet import DartsSupernet
    from trainables.search_loop import CLEAN_PASS_BATCH

    original = DartsSupernet.forward

    def forward(self, x):
        if not torch.is_grad_enabled() and len(x) > 200:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory")
        return original(self, x)

    monkeypatch.setattr(DartsSupernet, "forward", forward)
    report = max_batch_report(_tiny_spec())
    none = report["largest_batch"]["none"]
    assert CLEAN_PASS_BATCH > 200 and none["batch_size"] == 0 and none["clean_pass_batch"] == CLEAN_PASS_BATCH


def test_sync_bn_is_built_as_the_search_builds_it(monkeypatch):
    seen = _failing_above(monkeypatch, torch.cuda.OutOfMemoryError("CUDA out of memory"))
    max_batch_report(_tiny_spec(sync_bn=True))
    assert seen and all(any(isinstance(m, torch.nn.SyncBatchNorm) for m in step.objective.modules())
                        for _, step in seen)
