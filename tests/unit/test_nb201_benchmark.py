"""NAS-Bench-201 lookups: the sample's cell 11 as its file holds it, the official API's own
computation, every genotype form, the single-file form, cells the copy lacks, and pickles that
name code (refused, nothing run)."""

import contextlib
import io
import json
import pickle

import pytest

from nb201_bench_files import (
    CELL_11,
    SAMPLE,
    SPLITS,
    expected_accuracy,
    forged_record,
    hostile_pickle,
    meta_archs,
    sample_copy,
    write_bz2_pickle,
    write_cell,
)
from orchestrator.tables import results
from orchestrator.cli import main
from search_space import parse_genotype
from trainables.nb201_benchmark import Nb201Benchmark, NotInBenchmark
from trainables.safe_pickle import UnsafePickleError, load_bz2_pickle


def lookup(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["lookup", *argv])
    return code, out.getvalue(), err.getvalue()


def lookup_json(benchmark, genotype: str) -> dict:
    code, out, err = lookup("--benchmark", str(benchmark), "--genotype", genotype, "--json")
    assert code == 0, err
    return json.loads(out)


def test_lookup_of_cell_11_prints_the_values_its_file_holds():
    record = load_bz2_pickle(SAMPLE / "000011.pickle.pbz2")  # read here, independently of the command
    report = lookup_json(SAMPLE, CELL_11)
    assert (report["status"], report["index"], report["schedule_epochs"]) == ("found", 11, 200)
    for dataset, splits in SPLITS.items():
        for split in splits:
            mean, std = expected_accuracy(record, dataset, split)
            got = report["datasets"][dataset][split]
            assert got["mean"] == pytest.approx(mean, abs=1e-9) and got["std"] == pytest.approx(std, abs=1e-9)
            assert got["seeds"] == [777, 888, 999] and got["split"] == "/".join(SPLITS[dataset][split])
        trained = SPLITS[dataset]["test"][0]
        assert report["datasets"][dataset]["params_m"] == pytest.approx(
            float(record["200"]["all_results"][(trained, 777)]["params"]))
    assert report["datasets"]["cifar10"]["test"]["mean"] == pytest.approx(91.5833333, abs=1e-6)
    code, table, _ = lookup("--benchmark", str(SAMPLE), "--genotype", CELL_11)
    assert code == 0 and "91.58 ± 0.27 (3)" in table and "87.94 ± 0.16 (3)" in table
    assert "optimum 94.37 / 73.51 / 47.31" in table


def test_the_figures_are_the_official_apis():
    """The same cell queried through the official API object (built from the dict the safe
    unpickler read, so the API never unpickles a file itself): the same means."""
    from nats_bench import create

    benchmark = {"meta_archs": meta_archs(), "evaluated_indexes": [11],
                 "arch2infos": {11: load_bz2_pickle(SAMPLE / "000011.pickle.pbz2")}}
    api = create(benchmark, "tss", fast_mode=False, verbose=False)
    ours = Nb201Benchmark.open(SAMPLE).lookup(CELL_11).datasets
    assert ours["cifar10"].test.mean == api.get_more_info(11, "cifar10", hp="200", is_random=False)["test-accuracy"]
    assert ours["cifar10"].valid.mean == api.get_more_info(11, "cifar10-valid", hp="200", is_random=False)["valid-accuracy"]
    for dataset in ("cifar100", "ImageNet16-120"):
        info = api.get_more_info(11, dataset, hp="200", is_random=False)
        assert (ours[dataset].valid.mean, ours[dataset].test.mean) == (info["valid-accuracy"], info["test-accuracy"])
        assert ours[dataset].flops_m == api.get_cost_info(11, dataset, hp="200")["flops"]


def test_every_genotype_form(tmp_path):
    genotype = parse_genotype("nb201", CELL_11)
    (tmp_path / "genotype.json").write_text(genotype.to_json())
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    meta = {"metric": "alpha_acc", "mode": "max", "knobs": ["seed"], "epochs": 1, "space": "nb201", "study_name": "t"}
    results.write_trials(str(sweep), [{"trial_id": "t1", "seed": 0, "status": "TERMINATED",
                                       "genotype_json": genotype.to_json()}], meta)
    for form in (genotype.to_json(), str(tmp_path / "genotype.json"), f"{sweep}:t1"):
        report = lookup_json(SAMPLE, form)
        assert (report["status"], report["genotype"]) == ("found", CELL_11), form


def test_a_cell_the_copy_lacks_is_reported_not_raised():
    report = lookup_json(SAMPLE, "NB201_ALL_SKIP")
    assert report["status"] == "not_in_benchmark" and report["datasets"] is None
    assert f"no file {report['index']:06d}.pickle.pbz2" in report["reason"] and "NATS-Bench" in report["reason"]
    code, table, _ = lookup("--benchmark", str(SAMPLE), "--genotype", "NB201_ALL_SKIP")
    assert code == 0 and "not in the benchmark" in table


def test_written_cells_and_the_single_file_form(tmp_path):
    directory = sample_copy(tmp_path / "NATS-tss-v1_0-3ffb9-simple")
    resnet = str(parse_genotype("nb201", "NB201_RESNET"))
    index = write_cell(directory, resnet, shift=-1.5)
    from_dir = lookup_json(directory, "NB201_RESNET")
    cell_11 = lookup_json(SAMPLE, CELL_11)
    assert (from_dir["status"], from_dir["index"]) == ("found", index)
    assert from_dir["datasets"]["cifar100"]["test"]["mean"] == pytest.approx(
        cell_11["datasets"]["cifar100"]["test"]["mean"] - 1.5)
    single = write_bz2_pickle(tmp_path / "NATS-tss-v1_0-3ffb9.pickle.pbz2", {
        "meta_archs": meta_archs(), "total_archs": 15625, "evaluated_indexes": {11, index},
        "arch2infos": {11: load_bz2_pickle(SAMPLE / "000011.pickle.pbz2"),
                       index: forged_record(resnet, index, -1.5)}})
    assert lookup_json(single, CELL_11)["datasets"] == cell_11["datasets"]
    assert lookup_json(single, "NB201_RESNET")["datasets"] == from_dir["datasets"]
    assert lookup_json(single, "NB201_ALL_SKIP")["status"] == "not_in_benchmark"


def test_a_record_of_another_cell_under_this_cells_name_is_refused(tmp_path):
    directory = sample_copy(tmp_path / "bench")
    index = meta_archs().index(str(parse_genotype("nb201", "NB201_RESNET")))
    write_bz2_pickle(directory / f"{index:06d}.pickle.pbz2", forged_record(CELL_11, 11, 0.0))
    code, _, err = lookup("--benchmark", str(directory), "--genotype", "NB201_RESNET")
    assert code == 2 and "is of cell" in err and len(err.strip().splitlines()) == 1


def test_a_plain_unpickler_would_run_the_hostile_file(tmp_path):
    """The control for the tests below: their file really runs code when loaded plainly."""
    import bz2

    marker = tmp_path / "ran"
    pickle.loads(bz2.decompress(hostile_pickle(marker)))
    assert marker.exists()


@pytest.mark.parametrize("which", ["meta.pickle.pbz2", "000011.pickle.pbz2"])
def test_a_benchmark_file_that_names_code_is_refused_and_nothing_runs(tmp_path, which):
    directory = sample_copy(tmp_path / "bench")
    marker = tmp_path / "ran"
    (directory / which).write_bytes(hostile_pickle(marker))
    code, out, err = lookup("--benchmark", str(directory), "--genotype", CELL_11)
    assert code == 2 and out == ""
    assert "names os.system" in err and which in err and len(err.strip().splitlines()) == 1
    assert not marker.exists()
    with pytest.raises(UnsafePickleError):
        load_bz2_pickle(directory / which)
    assert not marker.exists()


def test_a_pickle_that_rebuilds_any_other_class_is_refused(tmp_path):
    file = write_bz2_pickle(tmp_path / "x.pickle.pbz2", {"a": NotInBenchmark("x", None, "y")})
    with pytest.raises(UnsafePickleError, match="trainables.nb201_benchmark.lookup.NotInBenchmark"):
        load_bz2_pickle(file)


def test_a_sweeps_tables_carry_the_benchmark_columns_and_results_shows_them(tmp_path):
    """Through the sweep's recorder: each epoch's bench_* values in epochs.parquet, the last
    epoch's in trials.parquet, and the leaderboard of `alphadarts results` shows them."""
    from types import SimpleNamespace

    import pandas as pd

    from orchestrator.stages.recorder import SweepRecorder

    meta = {"metric": "alpha_acc", "mode": "max", "knobs": ["seed"], "epochs": 2, "space": "nb201", "study_name": "t"}
    cell = parse_genotype("nb201", CELL_11)
    report = Nb201Benchmark.open(SAMPLE).lookup(CELL_11).datasets
    recorder = SweepRecorder(str(tmp_path), meta, str(tmp_path / "searches"))
    recorder.setup()
    for trial_id, seed in (("found", 0), ("lacking", 1)):
        trial = SimpleNamespace(trial_id=trial_id, config={"seed": seed}, pickled_error_file=None, error_file=None)
        recorder.on_trial_start(0, [], trial)
        for epoch in (1, 2):
            found = trial_id == "found" and epoch == 2
            bench = {"bench_status": "found" if found else "not_in_benchmark",
                     "bench_cifar10_test": report["cifar10"].test.mean if found else None,
                     "bench_cifar10_valid": report["cifar10"].valid.mean if found else None}
            recorder.on_trial_result(0, [], trial, {
                "epoch": epoch, "alpha_acc": 0.5, "genotype": cell.to_dict(), "genotype_hash": cell.key, **bench})
        recorder.on_trial_complete(0, [], trial)
    epochs = pd.read_parquet(tmp_path / results.EPOCHS_FILE)
    assert epochs["bench_status"].tolist() == ["not_in_benchmark", "found", "not_in_benchmark", "not_in_benchmark"]
    assert epochs["bench_cifar10_test"].isna().tolist() == [True, False, True, True]
    trials = pd.read_parquet(tmp_path / results.TRIALS_FILE).set_index("trial_id")
    assert trials.loc["found", "bench_cifar10_test"] == report["cifar10"].test.mean
    assert trials.loc["lacking", "bench_status"] == "not_in_benchmark" and pd.isna(trials.loc["lacking", "bench_cifar10_valid"])
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["results", str(tmp_path)]) == 0
    header = next(line for line in out.getvalue().splitlines() if "trial_id" in line)
    assert "bench_status" in header and "bench_cifar10_test" in header and "91.5833" in out.getvalue()
