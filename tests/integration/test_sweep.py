"""`alphadarts sweep` end to end on the shared local Ray instance: the tables, TensorBoard,
the Optuna study, ASHA, failing trials, and an interrupted sweep that resumes."""

import json
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import optuna
import pandas as pd
import pyarrow.parquet as pq
import pytest

from orchestrator.tables import results
from orchestrator.cli import main
from helpers import tiny_proxy, tiny_search

pytestmark = pytest.mark.ray

TINY = [
    *tiny_search(epochs=2, subset=128),
    # the default objective, each trial's genotype trained for one epoch at a tiny size
    *tiny_proxy(),
]


def _sweep_args(tmp_path, name, *extra):
    return ["sweep", "quickstart", "--set", f"output_dir={tmp_path}", "--set", f"name={name}", *TINY, *extra]


def test_sweep_records_every_trial_and_asha_stops_some(ray_session, tmp_path, capsys):
    # six trials: plain DARTS first, then two of TPE's settings, each with seeds 0 and 1; each
    # trial an MLflow run too, in a local file store
    mlruns = tmp_path / "mlruns"
    assert main(_sweep_args(tmp_path, "qs", "--set", "sweep.sampler_seed=5", "--set",
                            f"tracking.mlflow=file:{mlruns}", "--json")) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    exp = Path(summary["experiment_dir"])
    assert exp == tmp_path / "qs-sweep"
    counts = summary["trials_by_status"]
    assert summary["num_trials"] == 6 and set(counts) <= {"TERMINATED", "STOPPED"} and not summary["interrupted"]
    assert counts.get("STOPPED", 0) >= 1 and counts.get("TERMINATED", 0) >= 1

    trials = pd.read_parquet(exp / "trials.parquet")
    assert pq.read_schema(exp / "trials.parquet").names == [
        "trial_id", "mask_ratio", "seed", "decoder_depth", *results.TRIAL_COLUMNS]
    assert (trials[trials.status == "TERMINATED"].epochs == 2).all()
    assert (trials[trials.status == "STOPPED"].epochs < 2).all()
    assert trials.objective.equals(trials.proxy_acc) and trials.genotype_hash.str.fullmatch("[0-9a-f]{12}").all()
    assert all(json.loads(g)["space"] == "darts" for g in trials.genotype_json)
    best = summary["best"]
    assert best["objective"] == trials.objective.max() and best["genotype"] in set(trials.genotype)
    # every setting ran with both seeds; the first setting is plain DARTS
    settings = trials.groupby(["mask_ratio", "decoder_depth"]).seed.apply(sorted)
    assert len(settings) == 3 and all(seeds == [0, 1] for seeds in settings)
    assert 0.0 in set(trials.mask_ratio)

    epochs = pd.read_parquet(exp / "epochs.parquet")
    assert pq.read_schema(exp / "epochs.parquet").names == results.EPOCH_SCHEMA.names
    per_trial = epochs.groupby("trial_id").epoch.apply(list).to_dict()
    assert per_trial == {t: list(range(1, n + 1)) for t, n in zip(trials.trial_id, trials.epochs)}
    assert set(json.loads(epochs.alphas.iloc[0])) == {"normal", "reduce"}
    # the genotype's score comes with the epochs ASHA compares (1 and 2 here: every epoch)
    assert epochs.proxy_acc.notna().all()

    # TensorBoard's own reader loads every trial's event file with the epoch metrics
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    for trial_id, n in zip(trials.trial_id, trials.epochs):
        (events,) = (exp / f"trial_{trial_id}").glob("events.out.tfevents.*")
        accumulator = EventAccumulator(str(events))
        accumulator.Reload()
        assert [e.step for e in accumulator.Scalars("ray/tune/proxy_acc")] == list(range(1, n + 1))

    # the Optuna study holds one trial per setting, its value the mean over the setting's seeds
    study = optuna.load_study(study_name="qs", storage=f"sqlite:///{exp / 'optuna.db'}")
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)
    means = trials.groupby(["mask_ratio", "decoder_depth"]).objective.mean()
    assert sorted(t.value for t in study.trials) == pytest.approx(sorted(means))
    assert study.trials[0].params == {"mask_ratio": 0.0, "decoder_depth": 1}

    # MLflow: one run per trial, its knobs (the replicate's seed, not Tune's index) as params,
    # its last epoch's metrics
    from mlflow.tracking import MlflowClient

    client = MlflowClient(f"file:{mlruns}")
    experiment = client.get_experiment_by_name("qs-sweep")
    runs = {r.data.tags["trial_name"].removeprefix("run_trial_"): r
            for r in client.search_runs([experiment.experiment_id])}
    assert set(runs) == set(trials.trial_id)
    for row in trials.itertuples():
        run = runs[row.trial_id]
        assert run.data.params == {"mask_ratio": str(row.mask_ratio), "decoder_depth": str(row.decoder_depth),
                                   "seed": str(row.seed)}
        assert run.data.metrics["epoch"] == row.epochs and run.data.metrics["proxy_acc"] == pytest.approx(row.proxy_acc)
        assert [m.step for m in client.get_metric_history(run.info.run_id, "alpha_acc")] == list(range(1, row.epochs + 1))

    # the results command reads the same directory
    assert main(["results", str(exp), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert shown["best"] == summary["best"] and len(shown["leaderboard"]) == 6


def test_failing_trials_are_recorded_and_the_sweep_goes_on(ray_session, tmp_path, capsys):
    # patch_size=3 does not divide the 8-pixel images: each trial fails before Train starts
    args = _sweep_args(tmp_path, "bad", "--set", "sweep.num_samples=2", "--set", "sweep.space.patch_size=[3]", "--json")
    assert main(args) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["trials_by_status"] == {"ERROR": 2} and summary["best"] is None
    trials = pd.read_parquet(tmp_path / "bad-sweep" / "trials.parquet")
    assert trials.error.str.startswith("UsageError: knobs").all()
    assert trials.error.str.contains("patch_size=3 must divide the image size 8").all()
    study = optuna.load_study(study_name="bad", storage=f"sqlite:///{tmp_path / 'bad-sweep' / 'optuna.db'}")
    assert [t.state for t in study.trials] == [optuna.trial.TrialState.FAIL]  # one setting, two seeds


def _finished(exp: Path) -> set[str]:
    try:
        trials = pd.read_parquet(exp / "trials.parquet")
    except (FileNotFoundError, OSError):
        return set()
    return set(trials[trials.status.isin(results.FINISHED)].trial_id)


def _tune_epochs(exp: Path) -> dict[str, list[int]]:
    """Epochs each trial reported, from Tune's own result.json files (a trial that ran twice
    would report its epochs twice there)."""
    reported = {}
    for path in exp.glob("trial_*/result.json"):
        lines = path.read_text().splitlines()
        reported[path.parent.name.removeprefix("trial_")] = [json.loads(line)["epoch"] for line in lines]
    return reported


def _without_repeated_last(epochs: list[int]) -> list[int]:
    return epochs[:-1] if len(epochs) > 1 and epochs[-1] == epochs[-2] else epochs


def _run_until_one_more_finishes(args, exp: Path, log_path: Path, stop_signal: int) -> int:
    """Start `alphadarts sweep` as its own driver, wait until one more trial has finished,
    send `stop_signal`; return the driver's exit code."""
    already = _finished(exp)
    with open(log_path, "w") as log:
        driver = subprocess.Popen([sys.executable, "-m", "orchestrator.cli", *args], stdout=log, stderr=log)
        deadline = time.monotonic() + 240
        while len(_finished(exp)) <= len(already) and driver.poll() is None and time.monotonic() < deadline:
            time.sleep(1)
        assert driver.poll() is None, f"the sweep ended before it was stopped: {log_path.read_text()[-3000:]}"
        driver.send_signal(stop_signal)
        return driver.wait(timeout=120)


def test_a_killed_sweep_resumes_without_running_a_trial_twice(ray_session, tmp_path, capsys):
    # the drivers join the shared Ray instance through --address instead of starting another
    address = ray_session.get_runtime_context().gcs_address
    # one trial at a time: single-worker trials start in seconds, and four at once (0.5 CPU
    # each) finished together before the second driver could be killed between two of them
    args = _sweep_args(tmp_path, "kill", "--set", "sweep.num_samples=4", "--set", "sweep.max_concurrent_trials=1")
    exp = tmp_path / "kill-sweep"

    # SIGINT: Tune saves its state and the command says it was interrupted (exit 130)
    code = _run_until_one_more_finishes([*args, "--address", address], exp, tmp_path / "first.log", signal.SIGINT)
    assert code == 130, (tmp_path / "first.log").read_text()[-3000:]
    done_first = _finished(exp)
    reported_first = _tune_epochs(exp)
    # trials that reported an epoch before the SIGINT: Tune saved them with its state (a trial
    # only started at that moment may be missing from it; the restored sweep replaces it)
    ran_first = set(pd.read_parquet(exp / "epochs.parquet").trial_id) if (exp / "epochs.parquet").exists() else set()

    # SIGKILL of the resumed driver: no goodbye at all; Tune restores its last saved state
    code = _run_until_one_more_finishes([*args, "--address", address, "--resume"], exp,
                                        tmp_path / "second.log", signal.SIGKILL)
    assert code == -signal.SIGKILL
    assert len(_finished(exp)) < 4, "the sweep finished before it was killed"

    assert main([*args, "--resume", "--json"]) == 0  # in-process, on the same Ray instance
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["num_trials"] == 4 and not summary["interrupted"]
    after = pd.read_parquet(exp / "trials.parquet")
    assert ran_first <= set(after.trial_id) and after.status.isin(results.FINISHED).all()
    # trials finished before the SIGINT were not run again; no trial reported an epoch twice
    reported = _tune_epochs(exp)
    assert all(reported[t] == reported_first[t] for t in done_first)
    # (a trial whose driver was killed after its last report, before Tune saved that it
    # ended, reports that epoch once more from its checkpoint: re-read, not re-run)
    assert all(_without_repeated_last(epochs) == sorted(set(epochs)) for epochs in reported.values())
    # none lost: each trial's epochs appear once, 1..n, in epochs.parquet
    epochs = pd.read_parquet(exp / "epochs.parquet").groupby("trial_id").epoch.apply(list).to_dict()
    assert epochs == {t: list(range(1, n + 1)) for t, n in zip(after.trial_id, after.epochs)}
    # the study holds the two settings (two seeds each) as COMPLETE; what the killed driver
    # had asked for and Tune asked again after restoring its saved state is closed as FAIL
    study = optuna.load_study(study_name="kill", storage=f"sqlite:///{exp / 'optuna.db'}")
    states = Counter(t.state.name for t in study.trials)
    assert states["COMPLETE"] == 2 and set(states) <= {"COMPLETE", "FAIL"}
