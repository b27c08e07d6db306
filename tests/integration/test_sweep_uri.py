"""A sweep whose output_dir is a URI, as on a cluster with s3:// (here `file://`, which takes
the same pyarrow.fs code path without a network): Tune, Train and the result tables write
through the URI, the Optuna study lives on the driver's disk and is copied into the
experiment directory at the end, and `alphadarts results` reads it all back from the URI."""

import json

import optuna
import pandas as pd
import pytest

from orchestrator.cli import main
from helpers import tiny_proxy, tiny_search

pytestmark = pytest.mark.ray

TINY = [
    *tiny_search(epochs=1, subset=64),
    "--set", "sweep.num_samples=2",
    "--set", "sweep.scheduler.grace_period=1",
    # one Optuna trial per Tune trial (no seed replicates); the genotypes scored by a tiny proxy
    "--set", "sweep.space.seed=null",
    *tiny_proxy(),
]


def test_a_sweep_at_a_uri_keeps_its_study_on_the_driver_and_copies_it(ray_session, tmp_path, capsys,
                                                                       monkeypatch):
    monkeypatch.setenv("ALPHADARTS_STUDY_DIR", str(tmp_path / "studies"))
    uri = f"file://{tmp_path}/bucket"
    assert main(["sweep", "quickstart", "--set", f"output_dir={uri}", "--set", "name=u", *TINY, "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["experiment_dir"] == f"{uri}/u-sweep" and summary["trials_by_status"] == {"TERMINATED": 2}

    exp = tmp_path / "bucket" / "u-sweep"
    (driver_copy,) = (tmp_path / "studies").glob("u-sweep-*/optuna.db")
    for db in (driver_copy, exp / "optuna.db"):
        study = optuna.load_study(study_name="u", storage=f"sqlite:///{db}")
        assert [t.state for t in study.trials] == [optuna.trial.TrialState.COMPLETE] * 2
    trials = pd.read_parquet(exp / "trials.parquet")
    assert len(trials) == 2 and trials.train_node_id.notna().all() and (trials.resumed_from_epoch == 0).all()

    assert main(["results", f"{uri}/u-sweep", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert answer["num_trials"] == 2 and answer["importances"]["finished_trials"] == 2

    # the same name again at the same URI resumes (nothing left to run), it does not start over
    assert main(["sweep", "quickstart", "--set", f"output_dir={uri}", "--set", "name=u", *TINY, "--json"]) == 0
    again = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert again["trials_by_status"] == {"TERMINATED": 2}
    assert len(pd.read_parquet(exp / "epochs.parquet")) == 2
