"""The retrain stage's driver-side pieces without Ray: where a genotype comes from, the
retrain.parquet table and the per-genotype summary."""

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from orchestrator.tables import results
from orchestrator.errors import UsageError
from orchestrator.stages.retrain import resolve_genotype
from orchestrator.tables.retrain_table import RETRAIN_SCHEMA, genotype_leaderboard, merge_retrain
from search_space import parse_genotype

V1 = parse_genotype("darts", "DARTS_V1")
V2 = parse_genotype("darts", "DARTS_V2")


def _sweep_dir(tmp_path):
    meta = {"metric": "alpha_acc", "mode": "max", "knobs": ["mask_ratio", "seed"], "epochs": 2,
            "space": "darts", "study_name": "x"}
    rows = [
        {"trial_id": "a1", "mask_ratio": 0.5, "seed": 1, "status": "TERMINATED",
         "genotype": str(V1), "genotype_json": V1.to_json(), "genotype_hash": V1.key},
        {"trial_id": "b2", "mask_ratio": 0.0, "seed": 0, "status": "ERROR"},
    ]
    results.write_trials(str(tmp_path), rows, meta)
    return tmp_path


def test_genotype_by_name_string_or_sweep_trial(tmp_path):
    assert resolve_genotype("darts", "DARTS_V2").genotype == V2
    given = resolve_genotype("darts", str(V2))
    assert given.genotype == V2 and given.source_trials == () and given.knobs == {}
    exp = _sweep_dir(tmp_path)
    from_trial = resolve_genotype("darts", f"{exp}:a1")
    assert from_trial.genotype == V1
    assert from_trial.source_trials == ("a1",) and from_trial.knobs == {"mask_ratio": 0.5, "seed": 1}
    assert from_trial.sweep_dir == str(exp)  # recorded in the retrain's directory
    by_hash = resolve_genotype("darts", f"{exp}:{V1.key[:5]}")
    assert by_hash.genotype == V1 and by_hash.source_trials == ("a1",) and by_hash.sweep_dir == str(exp)
    with pytest.raises(UsageError, match="no trial and no genotype hash 'zz'.*trials a1, b2"):
        resolve_genotype("darts", f"{exp}:zz")
    with pytest.raises(UsageError, match="has no genotype"):
        resolve_genotype("darts", f"{exp}:b2")
    with pytest.raises(ValueError, match="belongs to the darts space, but the config's retrain.space is 'nb201'"):
        resolve_genotype("nb201", f"{exp}:a1")


def _row(genotype, seed, acc, status="TERMINATED"):
    return {"genotype_hash": genotype.key, "genotype": str(genotype), "genotype_json": genotype.to_json(),
            "space": "darts", "source_trials": [], "knobs": "{}", "seed": seed, "status": status,
            "test_acc": acc, "test_ce": 0.5, "train_acc": 0.9, "params": 10, "macs": 20, "epochs": 3,
            "wall_time_s": 1.5, "run_dir": f"/r/{seed}", "error": None}


def test_table_schema_merge_and_mean_std(tmp_path):
    merge_retrain(str(tmp_path), [_row(V1, 0, 0.5), _row(V1, 1, 0.7)])
    table = merge_retrain(str(tmp_path), [_row(V2, 0, 0.8), _row(V1, 1, 0.9),
                                          _row(V2, 1, None, status="ERROR")])
    rows = results.records(table)
    schema = pq.read_schema(tmp_path / "retrain.parquet")
    assert schema.names == ["genotype_hash", "genotype", "genotype_json", "space", "source_trials", "knobs",
                            "seed", "status", "test_acc", "test_ce", "train_acc", "params", "macs", "epochs",
                            "wall_time_s", "run_dir"]
    assert schema.field("source_trials").type == pa.list_(pa.string())
    assert schema.field("seed").type == pa.int64() and schema.field("test_acc").type == pa.float64()
    assert [(r["genotype_hash"], r["seed"], r["test_acc"]) for r in rows] == [
        (V1.key, 0, 0.5), (V2.key, 0, 0.8), (V1.key, 1, 0.9), (V2.key, 1, None)]
    by_key = {g["genotype_hash"]: g for g in results.records(genotype_leaderboard(table))}
    assert by_key[V1.key]["test_acc_mean"] == pytest.approx(0.7)
    assert by_key[V1.key]["test_acc_std"] == pytest.approx(0.2828427, rel=1e-6)
    assert (by_key[V2.key]["seeds"], by_key[V2.key]["unfinished"]) == (1, 1)
    assert by_key[V2.key]["test_acc_std"] is None  # one finished seed: no spread to report
    assert json.loads(rows[0]["knobs"]) == {}
    assert RETRAIN_SCHEMA.names == schema.names


def test_retrain_cli_rejects_bad_input_before_ray(capsys, tmp_path):
    from orchestrator.cli import main

    for argv, expected in [
        (["--genotype", "NOT_A_GENOTYPE"], "NOT_A_GENOTYPE"),
        (["--genotype", "DARTS_V2", "--seeds", "0"], "--seeds 0"),
        (["--genotype", "DARTS_V2", "--set", "retrain.model.layers=0"], "retrain.model.layers=0"),
        (["--genotype", f"{tmp_path}:t1"], "trials.parquet"),
    ]:
        assert main(["retrain", "quickstart", "--set", f"output_dir={tmp_path}", *argv]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and expected in err[0], err
    import ray

    assert not ray.is_initialized()


def test_target_from_a_selected_candidate():
    from orchestrator.stages.retrain import RetrainTarget
    from orchestrator.stages.selection import Candidate

    candidate = Candidate(genotype_hash=V1.key, genotype=str(V1), genotype_json=V1.to_json(), objective=0.5,
                          source_trials=("a1", "c3"), knobs={"mask_ratio": 0.25})
    target = RetrainTarget.from_candidate(candidate, "darts")
    assert (target.genotype, target.source_trials, target.knobs) == (V1, ("a1", "c3"), {"mask_ratio": 0.25})


def test_stopped_and_failed_runs_are_not_counted_as_finished_seeds(tmp_path):
    """A run stopped by a signal or failed carries an earlier epoch's test accuracy: it is an
    unfinished seed, never part of the mean."""
    table = merge_retrain(str(tmp_path), [_row(V1, 0, 0.97), _row(V1, 1, 0.60, status="STOPPED"),
                                          _row(V1, 2, 0.80, status="ERROR")])
    board = results.records(genotype_leaderboard(table))[0]
    assert (board["test_acc_mean"], board["seeds"], board["unfinished"]) == (0.97, 1, 2)
