"""`alphadarts results` says which knob matters: Optuna's fANOVA importance over a real small
study written here as the sweep writes it (optuna.db beside trials.parquet; no Ray)."""

import csv
import json

import optuna
import pytest

from orchestrator.tables import results
from orchestrator.cli import main
from orchestrator.tables.importance import param_importances

META = {"metric": "alpha_acc", "mode": "max", "knobs": ["mask_ratio", "seed", "decoder_depth"],
        "epochs": 2, "space": "darts", "study_name": "t"}


def _study(directory, n_trials: int, depths=(1, 2), name="t"):
    """A study whose objective is driven by the mask ratio; seed and depth add almost nothing."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(study_name=name, storage=f"sqlite:///{directory / 'optuna.db'}",
                                direction="maximize", sampler=optuna.samplers.RandomSampler(seed=0))
    rows = []
    for _ in range(n_trials):
        trial = study.ask()
        mask = trial.suggest_float("mask_ratio", 0.0, 0.9)
        seed = trial.suggest_categorical("seed", [0, 1, 2])
        depth = trial.suggest_categorical("decoder_depth", list(depths))
        value = 0.3 + 0.6 * mask + 0.001 * seed + 0.0005 * depth
        study.tell(trial, value)
        rows.append({"trial_id": f"t{trial.number}", "mask_ratio": mask, "seed": seed,
                     "decoder_depth": depth, "status": "TERMINATED", "epochs": 2,
                     "objective": value, "alpha_acc": value, "genotype_hash": "0" * 12})
    results.write_trials(str(directory), rows, META)
    return study


def test_the_knob_that_drives_the_objective_ranks_first(tmp_path, capsys):
    _study(tmp_path, 12)
    assert main(["results", str(tmp_path), "--json", "--csv"]) == 0
    out = capsys.readouterr().out
    answer = json.loads(out.strip().splitlines()[-1])["importances"]
    assert answer["evaluator"] == "fanova" and "FanovaImportanceEvaluator" in answer["evaluator_doc"]
    assert answer["finished_trials"] == 12 and answer["note"] is None
    params = answer["params"]
    assert set(params) == {"mask_ratio", "seed", "decoder_depth"}
    assert max(params, key=params.get) == "mask_ratio" and params["mask_ratio"] > 0.8
    assert sum(params.values()) == pytest.approx(1.0)
    assert "which knob matters for alpha_acc: fANOVA" in out
    with open(tmp_path / "importances.csv") as f:
        rows = list(csv.DictReader(f))
    assert rows[0]["knob"] == "mask_ratio" and rows[0]["evaluator"] == "fanova"
    # deterministic: the same numbers again
    assert param_importances(str(tmp_path), "t", META["knobs"])["params"] == params


def test_a_knob_with_one_value_is_named_not_estimated(tmp_path, capsys):
    _study(tmp_path, 6, depths=(2,))
    assert main(["results", str(tmp_path), "--json", "--csv"]) == 0
    out = capsys.readouterr().out
    answer = json.loads(out.strip().splitlines()[-1])["importances"]
    assert answer["constant"] == {"decoder_depth": 2} and set(answer["params"]) == {"mask_ratio", "seed"}
    assert "decoder_depth" in out and "one value only (2)" in out
    assert "one value only (2)" in (tmp_path / "importances.csv").read_text()


@pytest.mark.parametrize("n", [0, 1])
def test_fewer_than_two_finished_trials_are_said_not_raised(tmp_path, capsys, n):
    _study(tmp_path, n)
    if n == 0:  # a sweep that recorded nothing yet still has its table
        results.write_trials(str(tmp_path), [], META)
    assert main(["results", str(tmp_path), "--json"]) == 0
    answer = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["importances"]
    assert answer["params"] == {} and answer["note"] == f"{n} finished trial(s): importance needs at least 2"


def test_without_a_study_the_tables_still_show(tmp_path, capsys):
    results.write_trials(str(tmp_path), [{"trial_id": "a", "mask_ratio": 0.5, "seed": 0,
                                          "decoder_depth": 1, "status": "TERMINATED", "epochs": 2,
                                          "objective": 0.5}], META)
    assert main(["results", str(tmp_path), "--json"]) == 0
    answer = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["importances"]
    assert answer["params"] == {} and "no optuna.db" in answer["note"]


def test_failed_trials_do_not_count(tmp_path):
    study = _study(tmp_path, 3)
    trial = study.ask()
    trial.suggest_float("mask_ratio", 0.0, 0.9)
    study.tell(trial, state=optuna.trial.TrialState.FAIL)
    assert param_importances(str(tmp_path), "t", META["knobs"])["finished_trials"] == 3


def test_a_study_at_a_uri_is_read_from_a_copy_that_is_removed_after(tmp_path, monkeypatch):
    """SQLite opens local files only, so a study at a URI is copied to a temporary directory;
    that copy goes when the answer is made (each `alphadarts results` left one behind)."""
    import tempfile

    (tmp_path / "sweep").mkdir()
    _study(tmp_path / "sweep", 4)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    answer = param_importances(f"file://{tmp_path / 'sweep'}", "t", META["knobs"])
    assert answer["finished_trials"] == 4 and answer["note"] is None
    assert list(scratch.iterdir()) == []


def test_a_study_file_without_the_named_study_is_said_with_its_place(tmp_path):
    _study(tmp_path, 3, name="other")
    answer = param_importances(f"file://{tmp_path}", "t", META["knobs"])
    assert answer["note"] == f"file://{tmp_path}/optuna.db holds no study named 't'"
