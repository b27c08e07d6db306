"""`alphadarts doctor --quick --json` as CI runs it: a subprocess that exits 0 and prints one
JSON object listing every switch with its result (the quick set passed, the rest skipped or
refused by design), and the Ray Train search it ran, on the shared local Ray instance."""

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.ray


def test_doctor_quick_passes_and_lists_every_switch_with_its_result(ray_session):
    from orchestrator.doctor.step_checks import HOST_READS_ALLOWED
    from orchestrator.doctor.switches import SWITCHES

    address = ray_session.get_runtime_context().gcs_address
    done = subprocess.run([sys.executable, "-m", "orchestrator.cli", "doctor", "--quick", "--json",
                           "--address", address], capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-4000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["passed"] and report["quick"] and report["device"]["type"] == "cpu"
    rows = {(r["check"], r["order"], r["switch"]): r for r in report["checks"]}
    for switch in SWITCHES:
        row = rows[(switch.kind, switch.order if switch.kind == "search" else None, switch.name)]
        if switch.refused:
            assert row["result"] == "refused by design" and "bf16" in row["why"]
        elif switch.quick and not switch.cuda_only:
            assert row["result"] == "pass", row
            assert row["images_per_s"] > 0 and row["host_reads_per_step"] <= HOST_READS_ALLOWED[switch.kind]
            if not switch.baseline:
                assert row["loss_rel_diff"] <= switch.tolerance.loss
        else:
            assert row["result"] == "skipped" and row["why"]
    ray_rows = [r for r in report["checks"] if r["check"] == "ray"]
    search, two_gpus = ray_rows
    assert search["result"] == "pass" and search["epochs"] == 2
    assert all(len(set(d)) == 1 for d in search["alpha_rank_digests"])
    assert two_gpus["result"] == "skipped" and "2 GPUs" in two_gpus["why"]
    assert report["storage"] is None  # its temp directory removed, all having passed
