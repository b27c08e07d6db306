"""`alphadarts search` end to end on the shared local Ray instance."""

import json
from pathlib import Path

import pytest

from orchestrator.cli import main
from helpers import tiny_search

pytestmark = pytest.mark.ray

TINY = tiny_search(epochs=2, subset=64)


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
    # the run had no Ray Datasets, so Ray Train started no DatasetManager actor for it
    from ray.util.state import list_actors

    address = ray_session.get_runtime_context().gcs_address
    assert not list_actors(address=address, filters=[("class_name", "=", "DatasetManager")])
    assert list_actors(address=address, filters=[("class_name", "=", "TrainController")])

    saved = json.loads((run_dir / "config.json").read_text())
    assert saved["search"]["mim"]["mask_ratio"] == 0.5 and saved["search"]["epochs"] == 2

    # the same name again: the run had finished, so it says so and prints its result; no
    # epoch runs twice (a rerun from scratch could not reproduce the epoch wall times)
    assert main(args) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out[0].startswith("the search one finished before (2 epochs)")
    again = json.loads(out[-1])
    assert again["alphas"] == summary["alphas"] and again["finished_before"]
    assert [json.loads(x) for x in (run_dir / "epochs.jsonl").read_text().splitlines()] == epochs

    # the same name with another mask ratio: refused before Ray, one line naming the field
    assert main([*args, "--set", "search.mim.mask_ratio=0.25"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "search.mim.mask_ratio: 0.5 -> 0.25" in err[0] and "--restart" in err[0]

    # a corrupt checkpoint of an interrupted run (no result files yet) is bad input: exit 2,
    # one line naming it
    for name in ("epochs.jsonl", "genotype.json", "alphas.json"):
        (run_dir / name).unlink()
    latest = max((p for p in run_dir.glob("checkpoint_*") if p.is_dir()), key=lambda p: p.name)
    (latest / "state.pt").write_bytes(b"not a checkpoint")
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("alphadarts: error: checkpoint") and "corrupt" in err
