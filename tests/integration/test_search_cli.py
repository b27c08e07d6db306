"""`alphadarts search` end to end on the shared local Ray instance."""

import json
from pathlib import Path

import pytest

from orchestrator.cli import main

pytestmark = pytest.mark.ray

TINY = [
    "--set", "search.epochs=2",
    "--set", "search.data.subset=192",
    "--set", "search.data.image_size=8",
    "--set", "search.data.batch_size=16",
    "--set", "search.model.channels=4",
    "--set", "search.model.layers=3",
    "--set", "search.mim.patch_size=2",
    "--set", "search.runtime.cpus_per_worker=0.5",
]


def test_search_writes_the_run_directory_and_resumes(ray_session, tmp_path, capsys):
    args = ["search", "quickstart", "--set", f"output_dir={tmp_path}", "--set", "name=one", *TINY, "--json"]
    assert main(args) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    run_dir = Path(summary["run_dir"])
    assert run_dir == tmp_path / "one"
    assert summary["metrics"]["epoch"] == 2
    assert set(summary["alphas"]) == {"normal", "reduce"}
    epochs = [json.loads(line) for line in (run_dir / "epochs.jsonl").read_text().splitlines()]
    assert [e["epoch"] for e in epochs] == [1, 2]
    genotype = json.loads((run_dir / "genotype.json").read_text())
    assert genotype["space"] == "darts"
    assert genotype == epochs[-1]["genotype"] and summary["genotype"]["hash"] == epochs[-1]["genotype_hash"]
    assert list(run_dir.glob("checkpoint_*"))

    # the same name again: resumes from the last checkpoint, so no epoch runs twice (a rerun
    # from scratch could not reproduce the recorded epoch wall times to the same float)
    assert main(args) == 0
    again = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert again["alphas"] == summary["alphas"]
    assert [json.loads(x) for x in (run_dir / "epochs.jsonl").read_text().splitlines()] == epochs

    # a corrupt checkpoint is bad input: exit 2, one line naming it
    latest = max((p for p in run_dir.glob("checkpoint_*") if p.is_dir()), key=lambda p: p.name)
    (latest / "state.pt").write_bytes(b"not a checkpoint")
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("alphadarts: error: checkpoint") and "corrupt" in err
