"""A NAS-Bench-201 search records its derived cell's benchmark accuracy every epoch (the search
loop called directly, tiny sizes, offline digits): the sample's cell 11 when α selects it,
"not in the benchmark" for the cells the sample lacks, cells written for the run's own
derived cells, the default location, and no benchmark at all."""

import copy
import logging
import math

import pytest
import torch
from pydantic import ValidationError

from helpers import assert_bitwise_equal, with_changes
from nb201_bench_files import CELL_11, SAMPLE, SPLITS, expected_accuracy, hostile_pickle, sample_copy, write_cell
from search_space import OPS_NB201, genotype_from_dict, parse_genotype
from trainables.config import SearchConfig
from trainables.metrics import BENCHMARK_METRICS
from trainables.nb201_benchmark.epoch_metrics import METRIC_KEYS
from trainables.reporters import MemoryReporter, StopSearch
from trainables.safe_pickle import load_bz2_pickle
from trainables.search_loop import run_search

BENCH_VALUES = [m.name for m in BENCHMARK_METRICS if m.name != "bench_status"]


def tiny(**changes) -> SearchConfig:
    raw = {
        "seed": 3, "epochs": 2,
        "data": {"dataset": "digits", "image_size": 8, "batch_size": 16, "subset": 64},
        "model": {"space": "nb201", "channels": 4, "layers": 1},
        "mim": {"mask_ratio": 0.5, "patch_size": 2, "decoder_depth": 1, "decoder_width": 8},
    }
    return SearchConfig.model_validate(with_changes(raw, **changes))


@pytest.fixture(autouse=True)
def empty_torch_home(tmp_path, monkeypatch):
    """The API's default location holds nothing unless a test puts the benchmark there."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))


def alphas_selecting(arch: str) -> torch.Tensor:
    """α whose strongest op on every edge is the cell's, by a margin one epoch cannot undo."""
    ops = parse_genotype("nb201", arch).ops
    return torch.stack([10.0 * (torch.arange(len(OPS_NB201)) == OPS_NB201.index(op)).float() for op in ops])


def test_each_epoch_records_the_cell_or_that_the_benchmark_lacks_it():
    config = tiny(benchmark=str(SAMPLE))
    first = MemoryReporter(stop_after_epochs=1)
    with pytest.raises(StopSearch):
        run_search(config, first)
    epoch1 = first.metrics[0]
    assert str(genotype_from_dict(epoch1["genotype"])) != CELL_11
    assert epoch1["bench_status"] == "not_in_benchmark" and all(epoch1[n] is None for n in BENCH_VALUES)

    # epoch 2 starts from α that select cell 11: the one cell the sample holds
    state = copy.deepcopy(first.states[-1])
    state["objective"]["supernet.alphas_cell"] = alphas_selecting(CELL_11)
    resumed = MemoryReporter(resume_state=state)
    run_search(config, resumed)
    epoch2 = resumed.metrics[-1]
    assert epoch2["epoch"] == 2 and epoch2["bench_status"] == "found"
    record = load_bz2_pickle(SAMPLE / "000011.pickle.pbz2")
    for dataset, splits in SPLITS.items():
        for split in splits:
            mean, _ = expected_accuracy(record, dataset, split)
            assert epoch2[f"bench_{METRIC_KEYS[dataset]}_{split}"] == pytest.approx(mean, abs=1e-9)


def test_a_cell_file_that_names_code_is_not_run_and_the_search_goes_on(tmp_path, caplog):
    directory = sample_copy(tmp_path / "bench")
    marker = tmp_path / "ran"
    (directory / "000011.pickle.pbz2").write_bytes(hostile_pickle(marker))
    first = MemoryReporter(stop_after_epochs=1)
    with pytest.raises(StopSearch):
        run_search(tiny(benchmark=str(directory)), first)
    state = copy.deepcopy(first.states[-1])
    state["objective"]["supernet.alphas_cell"] = alphas_selecting(CELL_11)
    resumed = MemoryReporter(resume_state=state)
    with caplog.at_level(logging.WARNING):
        run_search(tiny(benchmark=str(directory)), resumed)
    assert resumed.metrics[-1]["bench_status"] == "unreadable" and resumed.metrics[-1]["bench_cifar10_test"] is None
    assert "names os.system" in caplog.text and not marker.exists()


def test_cells_written_for_the_runs_own_derived_cells_are_found_every_epoch(tmp_path):
    without = MemoryReporter()
    outcome = run_search(tiny(epochs=3), without)
    assert all(m["bench_status"] is None and all(m[n] is None for n in BENCH_VALUES) for m in without.metrics)

    cells = [str(genotype_from_dict(m["genotype"])) for m in without.metrics]
    directory = sample_copy(tmp_path / "bench")
    shifts = {cell: -10.0 * (i + 1) for i, cell in enumerate(dict.fromkeys(cells))}
    for cell, shift in shifts.items():
        write_cell(directory, cell, shift)
    record = load_bz2_pickle(SAMPLE / "000011.pickle.pbz2")
    with_bench = MemoryReporter()
    again = run_search(tiny(epochs=3, benchmark=str(directory)), with_bench)
    assert_bitwise_equal({k: torch.tensor(v) for k, v in outcome.alphas.items()},
                         {k: torch.tensor(v) for k, v in again.alphas.items()})  # recording changes nothing
    for cell, m in zip(cells, with_bench.metrics):
        assert m["bench_status"] == "found"
        mean, _ = expected_accuracy(record, "cifar100", "test")
        assert m["bench_cifar100_test"] == pytest.approx(mean + shifts[cell], abs=1e-9)


def test_the_default_location_is_used_when_present(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "home"))
    sample_copy(tmp_path / "home" / "NATS-tss-v1_0-3ffb9-simple")
    reporter = MemoryReporter()
    run_search(tiny(epochs=1), reporter)
    assert reporter.metrics[0]["bench_status"] == "not_in_benchmark"


def test_without_a_benchmark_the_search_says_where_to_put_it(caplog):
    reporter = MemoryReporter()
    with caplog.at_level(logging.INFO, logger="trainables.nb201_benchmark.epoch_metrics"):
        run_search(tiny(epochs=1), reporter)
    assert reporter.metrics[0]["bench_status"] is None
    assert "NATS-tss-v1_0-3ffb9-simple" in caplog.text and "search.benchmark" in caplog.text


def test_the_config_names_the_field_for_a_bad_benchmark(tmp_path):
    for value, needle in ((str(tmp_path / "missing"), "does not exist"), (str(tmp_path), "holds no meta.pickle.pbz2")):
        with pytest.raises(ValidationError, match=needle) as err:
            tiny(benchmark=value)
        assert err.value.errors()[0]["loc"] == ("benchmark",)
    with pytest.raises(ValidationError, match="allowed only with model.space=nb201"):
        tiny(benchmark=str(SAMPLE), model__space="darts", model__layers=3)


def test_a_search_started_before_the_field_existed_continues():
    """search.benchmark is where the benchmark lives: a saved config without it (an older
    alphadarts) or with another path is the same run."""
    from orchestrator.cluster.run_identity import differing_fields

    current = {"search": tiny(benchmark=str(SAMPLE)).model_dump(mode="json")}
    older = {"search": {k: v for k, v in current["search"].items() if k != "benchmark"}}
    assert differing_fields(older, current, "search") == []


def test_a_sweep_may_select_on_the_benchmarks_validation_accuracy_never_on_its_test_accuracy(tmp_path):
    from orchestrator.config import load_config
    from orchestrator.errors import UsageError
    from orchestrator.stages.sweep import check_sweep

    nb201 = ["search.model.space=nb201", "search.model.layers=1", "search.data.image_size=8",
             "retrain.model.auxiliary=false", f"search.benchmark={sample_copy(tmp_path / 'bench')}"]
    config = load_config("quickstart", [*nb201, "sweep.objective.metric=bench_cifar10_valid"])
    check_sweep(config)
    assert config.sweep.objective.mode == "max" and config.sweep.objective.pruning_metric == "bench_cifar10_valid"
    with pytest.raises(UsageError, match="sweep.objective.metric.*allowed: .*bench_cifar10_valid"):
        load_config("quickstart", [*nb201, "sweep.objective.metric=bench_cifar10_test"])
    with pytest.raises(UsageError, match="needs search.model.space=nb201 .*and search.benchmark set"):
        check_sweep(load_config("quickstart", ["sweep.objective.metric=bench_cifar10_valid"]))


def test_tune_is_told_a_missing_benchmark_accuracy_as_nan_the_history_keeps_none():
    """Tune's schedulers compare numbers (a sweep may rank by bench_*_valid); the loop's own
    history, and the epochs.jsonl written from it, keep None (JSON null)."""
    from trainables.metrics import for_tune

    told = for_tune({"epoch": 2, "bench_status": None, "bench_cifar10_valid": None, "genotype": {"a": 1}})
    assert told["epoch"] == 2 and told["bench_status"] is None and told["genotype"] == {"a": 1}
    assert math.isnan(told["bench_cifar10_valid"])
