"""`alphadarts doctor`'s verdicts, table and exit code, on made-up traces (no steps run:
tests/integration/test_doctor.py runs the whole `--quick` check)."""

import pytest
import torch

from orchestrator.doctor import step_checks
from orchestrator.doctor.sizes import check_sizes, ray_search_config
from orchestrator.doctor.switches import SECOND_ORDER_BF16, SWITCHES, selected
from orchestrator.doctor.table import render
from orchestrator.doctor.traces import Trace


def _trace(loss=1.0, grad=1.0, reads=1.0) -> Trace:
    return Trace(losses=[loss, loss], grads={"alpha": torch.full((4,), grad), "weights": torch.full((8,), grad)},
                 times=[0.01, 0.01], first_step_s=0.5, host_reads_per_step=reads)


@pytest.fixture
def quick_rows(monkeypatch):
    """check_steps(--quick) with every run's trace from `traces[switch name]` (default: the
    baseline's own numbers)."""
    traces: dict = {}

    def fake(switch, sizes, device):
        if switch.name == "channels_last" and "boom" in traces:
            raise RuntimeError("CUDA error: an illegal memory access was encountered")
        trace = traces.get(switch.name, _trace())
        if switch.kind == "retrain" and trace.host_reads_per_step == 1.0:
            trace = _trace(reads=0.0)
        return trace

    monkeypatch.setattr(step_checks, "_trace", fake)

    def rows(**given):
        traces.clear()
        traces.update(given)
        out = step_checks.check_steps(check_sizes(True), torch.device("cpu"), quick=True)
        return {(r["check"], r["order"], r["switch"]): r for r in out}

    return rows


def test_within_bounds_passes_and_every_switch_is_listed(quick_rows):
    rows = quick_rows(bf16=_trace(loss=1.01, grad=1.2))
    assert len(rows) == len(SWITCHES)
    bf16 = rows[("search", "first", "bf16")]
    assert bf16["result"] == "pass" and bf16["loss_rel_diff"] == pytest.approx(0.01)
    assert bf16["alpha_grad_rel_diff"] == pytest.approx(0.2) and bf16["images_per_s"] > 0
    refused = rows[("search", "second", "bf16")]
    assert refused["result"] == "refused by design" and refused["why"] == SECOND_ORDER_BF16
    assert rows[("search", "first", "compile")]["result"] == "skipped"


@pytest.mark.parametrize("given,fragment", [
    ({"bf16": _trace(loss=1.5)}, "loss 0.5 > 0.02"),  # a loss 50 % off: a gross error, not rounding
    ({"channels_last": _trace(grad=1.01)}, "weight grad 0.01 > 0.001"),  # fp32 must agree closely
    ({"ckpt cells": _trace(reads=3.0)}, "3 host reads per step (at most 1)"),
    ({"bf16": _trace(loss=float("nan"))}, "non-finite loss"),
    ({"boom": True}, "RuntimeError: CUDA error: an illegal memory access"),
])
def test_out_of_bounds_or_broken_fails_naming_why(quick_rows, given, fragment):
    rows = quick_rows(**given)
    failed = [r for r in rows.values() if r["result"] == "fail"]
    assert len(failed) >= 1 and fragment in failed[0]["why"]


def test_the_table_lists_every_check_and_the_exit_code_follows(monkeypatch, capsys, quick_rows):
    from helpers import run_cli

    rows = list(quick_rows(bf16=_trace(loss=1.5)).values())
    report = {"device": {"type": "cpu", "name": "test cpu", "count": 1}, "quick": True, "storage": "/tmp/x",
              "checks": rows, "passed": False, "wall_s": 1.0}
    text = render(report)
    assert all(r["switch"] in text for r in rows) and "SOME CHECKS FAILED" in text and "loss 0.5 > 0.02" in text
    monkeypatch.setattr("orchestrator.doctor.run.run_doctor", lambda options: report)
    code, out, _ = run_cli(capsys, "doctor", "--quick")
    assert code == 1 and "SOME CHECKS FAILED" in out
    report["passed"] = True
    code, out, _ = run_cli(capsys, "doctor", "--quick", "--json")
    assert code == 0 and out.startswith("{")


def test_a_ray_client_address_is_refused_with_one_line(capsys):
    from helpers import run_cli

    code, out, err = run_cli(capsys, "doctor", "--address", "ray://head:10001")
    assert code == 2 and out == "" and "ray job submit" in err and len(err.strip().splitlines()) == 1


def test_gpu_searches_use_the_gpu_presets_switches_and_two_gpus_sync_bn():
    one, two = ray_search_config(True, "/tmp/d", 1), ray_search_config(False, "/tmp/d", 2)
    assert one.search.runtime.use_gpu and one.search.runtime.bf16 and one.search.epochs == 2
    assert two.search.runtime.num_workers == 2 and two.search.runtime.sync_bn and two.search.runtime.bf16
    assert not ray_search_config(True, "/tmp/d", 0).search.runtime.use_gpu
    skipped = dict((s.name, why) for s, why in selected(quick=False, cuda=False) if s.kind == "retrain")
    assert skipped["tf32"] and skipped["bf16"] is None


def test_traces_run_the_real_steps_with_the_gpu_only_switches_set(monkeypatch):
    """The CUDA-only TF32 switch's code path (the backend flags set, then restored) and a
    trace of each kind, on the CPU, at the quick sizes: real steps, host reads counted."""
    from orchestrator.doctor.traces import retrain_trace, search_trace

    sizes = check_sizes(True)
    before = torch.backends.cudnn.allow_tf32
    search = search_trace(sizes.steps.search, torch.device("cpu"), sizes.search_image, steps=1, warmup=1, tf32=True)
    retrain = retrain_trace(sizes.steps.retrain, torch.device("cpu"), sizes.retrain_image, steps=1, warmup=1,
                            tf32=True)
    assert torch.backends.cudnn.allow_tf32 == before
    assert search.host_reads_per_step == 1 and retrain.host_reads_per_step == 0
    assert len(search.losses) == 4 and set(search.grads) == {"alpha", "weights"} and set(retrain.grads) == {"weights"}
    assert search.peak_mem_mb is None and search.step_ms() > 0


def test_on_a_cluster_whose_driver_has_no_gpu_the_steps_run_on_a_gpu_node(monkeypatch):
    """`ray job submit` runs the doctor on the head, often without a GPU: the step checks go
    to a GPU node as one Ray task; with 2 GPUs the 2-worker NCCL search runs too."""
    from orchestrator.doctor import run

    searched, remote = [], []
    monkeypatch.setattr(run, "_cluster_gpus", lambda address: 2)
    monkeypatch.setattr(run.torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(run, "_step_checks_on_a_gpu_node", lambda quick: remote.append(quick) or ({"type": "cuda"}, []))
    monkeypatch.setattr(run, "check_ray_search", lambda config, address, label: searched.append(config) or
                        {"check": "ray", "switch": label, "result": "pass"})
    report = run.run_doctor(run.DoctorOptions(quick=True, address="10.0.0.1:6379", storage="/tmp/d", progress=False))
    assert remote == [True] and report["device"] == {"type": "cuda"} and report["passed"]
    one, two = searched
    assert one.search.runtime.use_gpu and one.search.runtime.num_workers == 1
    assert two.search.runtime.num_workers == 2 and two.search.runtime.sync_bn
    assert [r["switch"] for r in report["checks"]] == ["search, 1 worker on GPU, bf16+channels_last",
                                                      "search, 2 workers on GPU, NCCL, bf16+channels_last+sync_bn"]
