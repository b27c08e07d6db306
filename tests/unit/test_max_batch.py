"""`alphadarts bench --max-batch`: the doubling-then-bisection search, driven by an injected
"fits(batch)" predicate (no GPU needed), its report, and the CPU refusal."""

import pytest
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
