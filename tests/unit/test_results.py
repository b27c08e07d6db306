"""Result tables: the recorder's rows, atomic writes, leaderboard and seed groups (no Ray)."""

import json
import os
from types import SimpleNamespace

import pandas as pd
import pyarrow.parquet as pq
import pytest
from ray import cloudpickle

from orchestrator.tables import results
from orchestrator.cli import main
from orchestrator.stages.recorder import SweepRecorder
from search_space import parse_genotype
from trainables.checkpoint import STATE_FILE, save_state

META = {"metric": "alpha_acc", "mode": "max", "knobs": ["mask_ratio", "seed", "decoder_depth"],
        "epochs": 4, "space": "darts", "study_name": "t"}
V1, V2 = parse_genotype("darts", "DARTS_V1"), parse_genotype("darts", "DARTS_V2")


def _trial(trial_id, mask_ratio, seed, depth, status, objective, genotype=V2, error=None):
    return {"trial_id": trial_id, "mask_ratio": mask_ratio, "seed": seed, "decoder_depth": depth,
            "status": status, "epochs": 4 if status == "TERMINATED" else 1, "objective": objective,
            "alpha_acc": objective, "genotype": None if objective is None else str(genotype),
            "genotype_hash": None if objective is None else genotype.key, "error": error}


HAND_MADE = [
    _trial("a", 0.0, 0, 1, "TERMINATED", 0.60, V1),
    _trial("b", 0.0, 1, 1, "TERMINATED", 0.70, V2),
    _trial("c", 0.5, 0, 1, "TERMINATED", 0.80, V2),
    _trial("d", 0.5, 1, 1, "TERMINATED", 0.90, V2),
    _trial("e", 0.5, 0, 2, "STOPPED", 0.20, V1),
    _trial("f", 0.25, 0, 2, "ERROR", None, error="UsageError: knobs do not fit"),
]


@pytest.fixture
def sweep_dir(tmp_path):
    results.write_trials(str(tmp_path), HAND_MADE, META)
    return tmp_path


def test_tables_read_back_with_their_schema(sweep_dir):
    trials, meta = results.load_trials(str(sweep_dir))
    assert meta == META
    schema = pq.read_schema(sweep_dir / results.TRIALS_FILE)
    assert schema.names[:4] == ["trial_id", "mask_ratio", "seed", "decoder_depth"]
    assert str(schema.field("seed").type) == "int64" and str(schema.field("objective").type) == "double"
    assert list(trials["trial_id"]) == list("abcdef")
    assert trials.loc[5, "error"].startswith("UsageError")


def test_leaderboard_is_best_first_with_errors_last(sweep_dir):
    trials, meta = results.load_trials(str(sweep_dir))
    assert list(results.leaderboard(trials, meta)["trial_id"]) == list("dcbaef")
    lowest_first = results.leaderboard(trials, {**meta, "mode": "min"})
    assert list(lowest_first["trial_id"]) == list("eabcdf")


def test_seed_groups_show_the_spread_across_seeds(sweep_dir):
    trials, meta = results.load_trials(str(sweep_dir))
    groups = results.seed_groups(trials, meta).set_index(["mask_ratio", "decoder_depth"])
    assert list(groups.index) == [(0.5, 1), (0.0, 1), (0.5, 2), (0.25, 2)]  # best mean first
    row = groups.loc[(0.0, 1)]
    assert (row["trials"], row["seeds"], row["genotypes"]) == (2, 2, 2)
    assert row["objective_mean"] == pytest.approx(0.65)
    assert row["objective_std"] == pytest.approx(pd.Series([0.6, 0.7]).std())
    assert (row["objective_min"], row["objective_max"]) == (0.6, 0.7)
    assert groups.loc[(0.5, 1), "genotypes"] == 1
    assert groups.loc[(0.25, 2), "trials"] == 1 and pd.isna(groups.loc[(0.25, 2), "objective_mean"])


def test_without_other_knobs_all_trials_form_one_group(tmp_path):
    rows = [{k: v for k, v in r.items() if k in ("trial_id", "seed", "status", "objective", "genotype_hash")}
            for r in HAND_MADE]
    results.write_trials(str(tmp_path), rows, {**META, "knobs": ["seed"]})
    groups = results.seed_groups(*results.load_trials(str(tmp_path)))
    assert len(groups) == 1 and groups.loc[0, "trials"] == 6 and groups.loc[0, "seeds"] == 2


def test_summary_counts_statuses_and_names_the_best(sweep_dir):
    summary = results.summarize(*results.load_trials(str(sweep_dir)), str(sweep_dir))
    assert summary["trials_by_status"] == {"ERROR": 1, "STOPPED": 1, "TERMINATED": 4}
    best = summary["best"]
    assert best["trial_id"] == "d" and best["objective"] == 0.9
    assert best["knobs"] == {"mask_ratio": 0.5, "seed": 1, "decoder_depth": 1}
    assert best["genotype_hash"] == V2.key


def test_results_command_prints_tables_json_and_csv(sweep_dir, capsys):
    assert main(["results", str(sweep_dir), "--json", "--csv"]) == 0
    out = capsys.readouterr().out
    assert "by mask_ratio, decoder_depth, across seeds:" in out
    data = json.loads(out.strip().splitlines()[-1])
    assert data["best"]["trial_id"] == "d" and len(data["leaderboard"]) == 6
    assert data["leaderboard"][-1]["objective"] is None
    assert pd.read_csv(sweep_dir / "leaderboard.csv")["trial_id"].tolist() == list("dcbaef")
    assert len(pd.read_csv(sweep_dir / "seed_groups.csv")) == 4


def test_results_command_refuses_what_is_not_a_sweep(tmp_path, capsys):
    assert main(["results", str(tmp_path / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["results", str(tmp_path)]) == 2
    assert "is not an experiment's directory" in capsys.readouterr().err


def test_a_failed_write_leaves_the_previous_table_whole(sweep_dir, monkeypatch):
    before = (sweep_dir / results.TRIALS_FILE).read_bytes()

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError):
        results.write_trials(str(sweep_dir), HAND_MADE[:2], META)
    assert (sweep_dir / results.TRIALS_FILE).read_bytes() == before
    assert [p.name for p in sweep_dir.iterdir()] == [results.TRIALS_FILE]  # no temp file left


def _fake_trial(trial_id, config, error_file=None):
    return SimpleNamespace(trial_id=trial_id, config=config, pickled_error_file=error_file, error_file=None)


def _result(epoch, acc, genotype=V2):
    return {"epoch": epoch, "alpha_acc": acc, "alpha_ce": 1.0, "weights_acc": acc, "weights_ce": 1.0,
            "mim_loss": 0.1, "alpha_entropy": 2.0, "alpha_top_weight": 0.3, "param_free_ops": 1,
            "genotype": genotype.to_dict(), "genotype_hash": genotype.key,
            "alphas": {"normal": [[0.0]]}, "lr": 0.01, "mim_active": True,
            "alpha_rank_digests": ["abc", "abc"],
            "checkpoint_path": f"/ckpt/{epoch}", "time_total_s": 1.5 * epoch, "training_iteration": epoch}


def test_recorder_keeps_both_tables_and_continues_after_a_resume(tmp_path):
    recorder = SweepRecorder(str(tmp_path), {**META, "epochs": 2}, str(tmp_path / "searches"))
    recorder.setup()
    full = _fake_trial("t1", {"mask_ratio": 0.5, "seed": 0, "decoder_depth": 1})
    early = _fake_trial("t2", {"mask_ratio": 0.0, "seed": 1, "decoder_depth": 2})
    error_file = tmp_path / "error.pkl"  # what Tune pickles: a RayTaskError with `.cause`
    error_file.write_bytes(cloudpickle.dumps(SimpleNamespace(cause=ValueError("knobs do not fit\nthe config"))))
    broken = _fake_trial("t3", {"mask_ratio": 0.25, "seed": 0, "decoder_depth": 0}, str(error_file))
    for trial in (full, early, broken):
        recorder.on_trial_start(0, [], trial)
    recorder.on_trial_result(0, [], full, _result(1, 0.5))
    recorder.on_trial_result(0, [], early, _result(1, 0.1, V1))
    recorder.on_trial_complete(0, [], early)
    recorder.on_trial_error(0, [], broken)

    trials = pd.read_parquet(tmp_path / results.TRIALS_FILE).set_index("trial_id")
    assert trials.loc["t1", "status"] == "RUNNING" and trials.loc["t2", "status"] == "STOPPED"
    assert trials.loc["t3", "status"] == "ERROR"
    assert trials.loc["t3", "error"] == "ValueError: the config"
    assert trials.loc["t2", "genotype_json"] == V1.to_json()
    assert trials.loc["t1", "run_dir"] == str(tmp_path / "searches" / "t1")

    # a resumed sweep unpickles a recorder that starts from the tables on disk; the report of
    # epoch 2 was in flight at the interruption, so epoch 3 brings it from its checkpoint
    checkpoint = tmp_path / "ckpt3"
    history = [{k: v for k, v in _result(e, acc).items() if k != "checkpoint_path"}
               for e, acc in ((1, 0.5), (2, 0.6), (3, 0.75))]
    save_state(checkpoint / STATE_FILE, {"epoch": 3, "history": history})
    resumed = SweepRecorder(str(tmp_path), {**META, "epochs": 3}, str(tmp_path / "searches"))
    resumed.setup()
    resumed.on_trial_start(0, [], full)
    resumed.on_trial_result(0, [], full, {**_result(3, 0.75), "checkpoint_path": str(checkpoint)})
    resumed.on_trial_complete(0, [], full)
    trials = pd.read_parquet(tmp_path / results.TRIALS_FILE).set_index("trial_id")
    assert trials.loc["t1", "status"] == "TERMINATED" and trials.loc["t1", "epochs"] == 3
    assert trials.loc["t1", "objective"] == 0.75 and trials.loc["t1", "checkpoint"] == str(checkpoint)
    assert trials.loc["t2", "status"] == "STOPPED"
    epochs = pd.read_parquet(tmp_path / results.EPOCHS_FILE)
    assert list(zip(epochs["trial_id"], epochs["epoch"])) == [("t1", 1), ("t2", 1), ("t1", 2), ("t1", 3)]
    assert epochs["alpha_acc"].tolist() == [0.5, 0.1, 0.6, 0.75]
    assert set(epochs.columns) == set(results.EPOCH_SCHEMA.names)
    # structured values arrive whole: α and the genotype as JSON, the rank digests as a list
    assert json.loads(epochs["alphas"][0]) == {"normal": [[0.0]]}
    assert json.loads(epochs["genotype"][1]) == V1.to_dict()
    assert list(epochs["alpha_rank_digests"][0]) == ["abc", "abc"]


def test_a_trial_the_restored_sweep_does_not_know_leaves_the_tables(tmp_path):
    """A driver SIGKILLed after starting trial t2 but before Tune saved its state: the
    restored sweep never runs t2 again (it asks for a new trial), so t2's rows go."""
    killed = SweepRecorder(str(tmp_path), {**META, "epochs": 1}, str(tmp_path / "searches"))
    killed.setup()
    done = _fake_trial("t1", {"mask_ratio": 0.5, "seed": 0, "decoder_depth": 1})
    ghost = _fake_trial("t2", {"mask_ratio": 0.0, "seed": 1, "decoder_depth": 2})
    for trial in (done, ghost):
        killed.on_trial_start(0, [], trial)
        killed.on_trial_result(0, [], trial, _result(1, 0.5))
    killed.on_trial_complete(0, [], done)

    restored = SweepRecorder(str(tmp_path), {**META, "epochs": 1}, str(tmp_path / "searches"))
    restored.setup()
    new = _fake_trial("t3", {"mask_ratio": 0.25, "seed": 0, "decoder_depth": 0})
    restored.on_trial_start(0, [done, new], new)
    restored.on_trial_result(0, [done, new], new, _result(1, 0.4))
    restored.on_trial_complete(0, [done, new], new)
    restored.on_experiment_end([done, new])
    trials = pd.read_parquet(tmp_path / results.TRIALS_FILE)
    assert sorted(trials["trial_id"]) == ["t1", "t3"] and trials["status"].eq("TERMINATED").all()
    assert sorted(pd.read_parquet(tmp_path / results.EPOCHS_FILE)["trial_id"]) == ["t1", "t3"]


def test_disk_full_while_writing_results_keeps_them_and_says_so_in_one_line(sweep_dir, monkeypatch, capsys):
    assert main(["results", str(sweep_dir), "--csv"]) == 0
    before = {p.name: p.read_bytes() for p in sweep_dir.iterdir()}
    capsys.readouterr()

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    assert main(["results", str(sweep_dir), "--csv"]) == 1
    out, err = capsys.readouterr()
    assert err == (f"alphadarts: failed: could not write {sweep_dir / 'leaderboard.csv'} (No space left on "
                   "device); its previous version is kept; run the command again once that is fixed\n")
    assert {p.name: p.read_bytes() for p in sweep_dir.iterdir()} == before  # whole, no temp file
