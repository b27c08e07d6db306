"""`alphadarts retrain` end to end on the shared local Ray instance: two seeds as parallel
Tune trials, each a two-worker (DDP) Train run. (That the same command run again trains
nothing was checked here once, at ~100 s more on a loaded 2-core machine; the loop's side
of it is a unit test: test_train_loop.py::test_a_finished_run_resumed_only_reports.)"""

import json
import time
from pathlib import Path

import pandas as pd
import pytest

from orchestrator.cli import main
from search_space import build_network, count_parameters, parse_genotype

pytestmark = pytest.mark.ray

TINY = [
    "--set", "retrain.epochs=2",
    "--set", "retrain.data.subset=128",
    "--set", "retrain.data.test_subset=96",
    "--set", "retrain.data.image_size=8",
    "--set", "retrain.data.batch_size=16",
    "--set", "retrain.model.channels=4",
    "--set", "retrain.model.layers=3",
    "--set", "retrain.cutout_length=2",
    "--set", "retrain.runtime.num_workers=2",
    "--set", "retrain.runtime.cpus_per_worker=0.25",
]


def test_retrain_two_seeds_on_two_workers_each(ray_session, tmp_path, capsys):
    args = ["retrain", "quickstart", "--genotype", "DARTS_V2", "--seeds", "2",
            "--set", f"output_dir={tmp_path}", "--set", "name=r", *TINY, "--json"]
    started = time.perf_counter()
    assert main(args) == 0
    first_wall = time.perf_counter() - started
    out = capsys.readouterr().out
    summary = json.loads(out.strip().splitlines()[-1])
    exp = tmp_path / "r-retrain"
    assert summary["experiment_dir"] == str(exp) and "±" in out

    table = pd.read_parquet(exp / "retrain.parquet")
    assert list(table.seed) == [0, 1] and (table.status == "TERMINATED").all() and (table.epochs == 2).all()
    v2 = parse_genotype("darts", "DARTS_V2")
    assert (table.params == count_parameters(build_network("darts", v2, 10, 4, 3))).all()
    assert (table.genotype_hash == v2.key).all() and (table.knobs == "{}").all()
    assert all(list(t) == [] for t in table.source_trials)
    assert table.test_ce.nunique() == 2  # the seeds really differ
    assert [Path(d).parent for d in table.run_dir] == [exp / "runs"] * 2
    assert all(list(Path(d).glob("checkpoint_*")) for d in table.run_dir)
    (group,) = summary["genotypes"]
    assert group["finished"] == 2 and group["test_acc_mean"] == pytest.approx(table.test_acc.mean())
    # each seed trained on two workers (DDP); Tune saw every epoch
    trials = sorted(exp.glob("*/result.json"))
    assert len(trials) == 2
    for trial in trials:
        reports = [json.loads(line) for line in trial.read_text().splitlines()]
        assert [r["epoch"] for r in reports] == [1, 2] and all(r["workers"] == 2 for r in reports)
    print(f"retrain of two seeds: {first_wall:.1f} s")
