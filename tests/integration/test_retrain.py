"""`alphadarts retrain` end to end on the shared local Ray instance, at the smallest size: one
genotype by name, one seed. (Several seeds, several genotypes and DDP on two workers run in
test_pipeline.py; that a finished run resumed only re-reports is a unit test of the loop.)"""

import json
from pathlib import Path

import pandas as pd
import pytest

from orchestrator.cli import main
from search_space import build_network, count_parameters, parse_genotype

pytestmark = pytest.mark.ray

TINY = [
    "--set", "retrain.epochs=1",
    "--set", "retrain.data.subset=128",
    "--set", "retrain.data.test_subset=96",
    "--set", "retrain.data.image_size=8",
    "--set", "retrain.data.batch_size=16",
    "--set", "retrain.model.channels=4",
    "--set", "retrain.model.layers=3",
    "--set", "retrain.cutout_length=2",
    "--set", "retrain.runtime.cpus_per_worker=0.5",
]


def test_retrain_a_published_genotype(ray_session, tmp_path, capsys):
    args = ["retrain", "quickstart", "--genotype", "DARTS_V2", "--seeds", "1",
            "--set", f"output_dir={tmp_path}", "--set", "name=r", *TINY, "--json"]
    assert main(args) == 0
    out = capsys.readouterr().out
    summary = json.loads(out.strip().splitlines()[-1])
    exp = tmp_path / "r-retrain"
    assert summary["experiment_dir"] == str(exp) and "test_acc" in out

    table = pd.read_parquet(exp / "retrain.parquet")
    assert list(table.seed) == [0] and (table.status == "TERMINATED").all() and (table.epochs == 1).all()
    v2 = parse_genotype("darts", "DARTS_V2")
    assert (table.params == count_parameters(build_network("darts", v2, 10, 4, 3))).all()
    assert (table.genotype_hash == v2.key).all() and (table.knobs == "{}").all()
    assert list(Path(table.run_dir[0]).glob("checkpoint_*"))
    (group,) = summary["genotypes"]
    assert group["seeds"] == 1 and group["test_acc_mean"] == pytest.approx(table.test_acc[0])

    # the same command again: the seed is in retrain.parquet as finished, nothing runs
    assert main(args) == 0
    assert "nothing ran" in capsys.readouterr().out
