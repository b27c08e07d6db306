"""After a real pipeline, at the smallest size, on the shared local Ray instance: every
command it ends with runs as pasted and exits 0 (the dashboard until SIGTERM stops it, the
retrain of the winner for real, with one seed more), and `results`, `report` and `inspect
--genotype DIR:PREFIX` take each of its three directories."""

import json
import os
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from helpers import tiny_proxy, tiny_search

from orchestrator.cli import main

pytestmark = pytest.mark.ray

ROOT = Path(__file__).resolve().parents[2]
#: one setting (plain DARTS, the first), two seeds; one genotype retrained with one seed of
#: one epoch: each trial and run in its Tune trial's own process
TINY = [*tiny_search(epochs=1, subset=128), *tiny_proxy(), *(arg for item in [
    "sweep.num_samples=2", "sweep.max_concurrent_trials=2", "sweep.space.seed=[0, 1]",
    "retrain.epochs=1", "retrain.data.subset=128", "retrain.data.test_subset=96",
    "retrain.data.image_size=8", "retrain.data.batch_size=16", "retrain.model.channels=4",
    "retrain.model.layers=3", "retrain.cutout_length=2", "retrain.runtime.cpus_per_worker=0.5",
    "pipeline.select.by=trial", "pipeline.retrain_seeds=1"] for arg in ("--set", item))]


def _next_lines(out: str) -> list[str]:
    lines = out.splitlines()
    start = len(lines) - 1 - lines[::-1].index("next:")
    return [line.strip() for line in lines[start + 1:] if line.startswith("  alphadarts ")]


def _dashboard_until_sigterm(argv: list[str]) -> tuple[int, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RAY_ADDRESS": ""}
    cli = subprocess.Popen([sys.executable, "-m", "orchestrator.cli", *argv], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, env=env)
    lines = []
    try:
        for line in cli.stdout:
            lines.append(line)
            if line.startswith("Ctrl+C"):
                break
    finally:
        cli.send_signal(signal.SIGTERM)
        rest = cli.communicate(timeout=60)[0]
    return cli.returncode, "".join(lines) + rest


def test_every_command_a_pipeline_prints_runs(ray_session, tmp_path, capsys):
    code = main(["pipeline", "quickstart", "--set", f"output_dir={tmp_path}", "--set", "name=p",
                 *TINY])
    out = capsys.readouterr().out
    assert code == 0, out[-3000:]
    dirs = {kind: tmp_path / f"p-{kind}" for kind in ("pipeline", "sweep", "retrain")}
    retrain = pd.read_parquet(dirs["retrain"] / "retrain.parquet")
    (winner,) = set(retrain.genotype_hash)
    lines = _next_lines(out)
    assert [shlex.split(line)[1] for line in lines] == ["results", "report", "dashboard", "inspect", "retrain"]
    assert all(str(dirs["pipeline"]) in line for line in lines)

    for line in lines:
        argv = shlex.split(line)[1:]
        if argv[0] == "dashboard":
            code, shown = _dashboard_until_sigterm(argv)
            assert code == 0 and f"its sweep {dirs['sweep']} and its retrain {dirs['retrain']}" in shown, shown
            continue
        assert main(argv) == 0, line
        capsys.readouterr()

    # the retrain of the winner ran its second seed beside the first, from the pipeline's config
    after = pd.read_parquet(dirs["retrain"] / "retrain.parquet")
    assert sorted(after.seed) == [0, 1] and set(after.genotype_hash) == {winner}
    assert (after.status == "TERMINATED").all()

    for kind, path in dirs.items():
        assert main(["results", str(path), "--json"]) == 0
        data = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
        assert data["retrain_leaderboard"][0]["genotype_hash"] == winner
        assert data["retrain_leaderboard"][0]["seeds"] == 2
        if kind != "retrain":
            assert len(data["leaderboard"]) == 2 and data["answer_by_mask_ratio"][0]["mask_ratio"] == 0.0
        assert main(["report", str(path)]) == 0
        capsys.readouterr()
        assert 'id="retrain-leaderboard"' in (path / "report.html").read_text()
        assert main(["inspect", "--genotype", f"{path}:{winner[:4]}", "--json"]) == 0
        report = json.loads(capsys.readouterr().out)
        # the network that experiment retrains: the size the retrain recorded
        assert report["genotype_hash"] == winner and report["params"] == after.params[0]
        assert report["macs"] == after.macs[0]
