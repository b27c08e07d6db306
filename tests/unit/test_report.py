"""The experiment report: synthetic sweep and retrain tables in, report.html and
valid PNGs out; degrades to the sweep alone, skips plots of knobs not swept (no Ray).

The full report is drawn for both spaces; the tests of one section's behaviour (no retrain,
knobs, the CLI, directories) use the NB201 sweep, whose α figure has 6 panels, not 2 x 14."""

import io
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image
from report_tables import PNG_MAGIC, PageRefs, make_retrain, make_sweep, page_refs

from orchestrator.tables import results
from orchestrator.cli import main
from orchestrator.report import REPORT_FILE, write_report
from orchestrator.tables.retrain_table import (
    RETRAIN_FILE,
    RETRAIN_SCHEMA,
    genotype_leaderboard,
    load_retrain,
    write_retrain,
)


def _assert_pngs(page: Path, refs: PageRefs) -> None:
    for src in refs.images:
        data = (page.parent / src).read_bytes()
        assert data[:8] == PNG_MAGIC, src
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            assert image.width > 100 and image.height > 100, src


@pytest.mark.parametrize("space", ["darts", "nb201"])
def test_full_report_has_leaderboard_cells_alphas_and_valid_pngs(tmp_path, space):
    trials = make_sweep(tmp_path, space)
    hashes = make_retrain(tmp_path, trials, space)
    page = Path(write_report(str(tmp_path)))
    assert page == tmp_path / REPORT_FILE
    text = page.read_text()
    refs = page_refs(page)
    for key in hashes:
        assert key in text
    assert "retrain-leaderboard" in refs.tables and "sweep-leaderboard" in refs.tables
    alpha_keys = {"darts": ["normal", "reduce"], "nb201": ["cell"]}[space]
    expected = {"report/answer.png", "report/cells.png", "report/collapse.png", "report/objective_vs_mask_ratio.png",
                "report/objective_vs_decoder_depth.png",
                *(f"report/alphas_{k}.png" for k in alpha_keys)}
    assert set(refs.images) == expected
    assert sorted(p.name for p in (tmp_path / "report").iterdir()) == sorted(
        Path(p).name for p in expected)
    _assert_pngs(page, refs)
    # The page leads with the answer: retrained accuracy against mask ratio, plain DARTS
    # (trial t0, mask 0) as the baseline, the MIM genotype (t3, mask 0.5) beside it.
    assert refs.images[0] == "report/answer.png" and refs.tables[0] == "answer-by-mask-ratio"
    assert text.index('id="answer"') < text.index('id="retrain"')
    assert "0 (plain DARTS)" in text
    # The winner is the genotype with the best mean test accuracy, drawn and its search shown.
    assert f"Winner {hashes[1]}, chosen by best mean test accuracy" in text
    assert "Trial t3: softmax" in text
    # 2 finished seeds of 3 for the first genotype: mean ± std over those 2 (0.80, 0.81).
    assert "0.8050 ± 0.0071" in text and "0.9100 ± 0.0100" in text
    # Offline: nothing but the page's own files and anchors.
    assert all(not re.match(r"[a-z]+:", link) for link in refs.links + refs.images)


def test_without_retrain_the_sweep_parts_remain_and_say_so(tmp_path):
    trials = make_sweep(tmp_path, "nb201")
    # A trial ASHA stopped at a rung scored the genotype it held then: the best score wins.
    stopped = next(t for t in trials if t["status"] == "STOPPED")
    stopped["objective"] = 0.99
    results.write_trials(str(tmp_path), trials, results.load_trials(str(tmp_path))[1])
    page = Path(write_report(str(tmp_path)))
    text, refs = page.read_text(), page_refs(page)
    assert "The retrain has not run yet" in text
    assert "retrain-leaderboard" not in refs.tables and "sweep-leaderboard" in refs.tables
    assert f"Winner {stopped['genotype_hash']}, chosen by best sweep objective" in text
    assert "report/cells.png" in refs.images and "report/alphas_cell.png" in refs.images
    _assert_pngs(page, refs)


def test_knob_not_swept_is_skipped_with_a_line(tmp_path):
    make_sweep(tmp_path, "nb201", knobs=("mask_ratio", "seed"))
    page = Path(write_report(str(tmp_path)))
    refs = page_refs(page)
    assert "decoder_depth was not swept" in page.read_text()
    assert "report/objective_vs_mask_ratio.png" in refs.images
    assert not any("decoder_depth" in src for src in refs.images)
    _assert_pngs(page, refs)


def test_report_reads_retrain_from_its_own_directory(tmp_path):
    sweep, retrain, out = tmp_path / "sweep", tmp_path / "retrain", tmp_path / "out"
    sweep.mkdir(), retrain.mkdir()
    hashes = make_retrain(retrain, make_sweep(sweep, "nb201"), "nb201")
    page = Path(write_report(str(out), sweep_dir=str(sweep), retrain_dir=str(retrain)))
    assert page.parent == out and all(key in page.read_text() for key in hashes)


def test_cli_writes_the_report_and_refuses_a_non_experiment(tmp_path, capsys):
    make_sweep(tmp_path, "nb201")
    assert main(["report", str(tmp_path)]) == 0
    assert capsys.readouterr().out.splitlines()[0] == str(tmp_path / REPORT_FILE)
    (tmp_path / "empty").mkdir()
    assert main(["report", str(tmp_path / "empty")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is not an experiment's directory" in err[0]


def test_a_retrain_table_without_the_schema_is_refused(tmp_path, capsys):
    make_sweep(tmp_path)
    pq.write_table(pa.table({"genotype_hash": ["x"]}), tmp_path / RETRAIN_FILE)
    assert main(["report", str(tmp_path)]) == 2
    assert "lacks the retrain columns" in capsys.readouterr().err


def test_a_sweep_that_just_started_gives_a_page_without_figures(tmp_path):
    meta = {"metric": "alpha_acc", "mode": "max", "knobs": ["mask_ratio", "seed"], "epochs": 3,
            "space": "darts", "study_name": "t"}
    results.write_trials(str(tmp_path), [{"trial_id": "a", "mask_ratio": 0.5, "seed": 0,
                                          "status": "RUNNING"}], meta)
    page = Path(write_report(str(tmp_path)))
    text, refs = page.read_text(), page_refs(page)
    assert refs.images == [] and "sweep-leaderboard" in refs.tables
    for line in ("No trial has reported a result yet", "No epochs recorded yet",
                 "No trial has an objective yet: mask_ratio plot skipped",
                 "decoder_depth was not swept"):
        assert line in text


def test_a_string_knob_is_plotted_by_category(tmp_path):
    trials = make_sweep(tmp_path, "nb201")
    for number, row in enumerate(trials):
        row["phases"] = "weights+alpha" if number % 2 else "alpha"
    meta = {"metric": "alpha_acc", "mode": "max", "knobs": ["mask_ratio", "seed", "phases"],
            "epochs": 3, "space": "nb201", "study_name": "t"}
    results.write_trials(str(tmp_path), trials, meta)
    page = Path(write_report(str(tmp_path)))
    refs = page_refs(page)
    assert "report/objective_vs_phases.png" in refs.images
    _assert_pngs(page, refs)


def test_retrain_table_round_trip_and_leaderboard(tmp_path):
    assert load_retrain(str(tmp_path)) is None
    rows = [{"genotype_hash": h, "seed": seed, "status": "TERMINATED" if acc else "ERROR", "test_acc": acc,
             "params": 10, "source_trials": [t], "unknown_column": 1}
            for h, t, seed, acc in (("a", "t1", 0, 0.5), ("a", "t2", 1, 0.7), ("b", "t3", 0, 0.9),
                                    ("c", "t4", 0, None))]
    write_retrain(str(tmp_path), rows)
    table = load_retrain(str(tmp_path))
    assert list(table.columns) == RETRAIN_SCHEMA.names and table["macs"].isna().all()
    board = genotype_leaderboard(table)
    assert list(board["genotype_hash"]) == ["b", "a", "c"]
    assert board.loc[1, "test_acc_mean"] == pytest.approx(0.6)
    assert board.loc[1, "test_acc_std"] == pytest.approx(0.1414, abs=1e-4)
    assert list(board["seeds"]) == [1, 2, 0] and list(board["unfinished"]) == [0, 0, 1]
    assert board.loc[1, "source_trials"] == ["t1", "t2"]


def test_an_nb201_sweep_with_the_benchmark_plots_its_ground_truth_per_epoch(tmp_path):
    """Each epoch's derived cell has its NAS-Bench-201 accuracy in epochs.parquet: the report
    plots it per mask ratio with the optimum and the all-skip reference lines, and the sweep
    leaderboard shows the benchmark's columns."""
    trials = make_sweep(tmp_path, "nb201")
    epochs = results.read_rows(str(tmp_path / "epochs.parquet"))
    for row in epochs:
        found = row["epoch"] > 1  # the first epoch's cells are not in this copy of the benchmark
        row.update(bench_status="found" if found else "not_in_benchmark",
                   **{f"bench_{d}_{s}": (60.0 + row["epoch"] if found else float("nan"))
                      for d in ("cifar10", "cifar100", "imagenet16") for s in ("valid", "test")})
    results.write_epochs(str(tmp_path), epochs)
    meta = results.load_trials(str(tmp_path))[1]
    for trial in trials:
        trial.update(bench_status="found", bench_cifar10_test=61.5, bench_cifar100_test=40.0, bench_imagenet16_test=20.0)
    results.write_trials(str(tmp_path), trials, meta)
    page = Path(write_report(str(tmp_path)))
    text, refs = page.read_text(), page_refs(page)
    assert "report/benchmark.png" in refs.images and "NAS-Bench-201 ground truth" in text
    assert "bench_cifar10_test" in text and "61.5" in text  # the leaderboard's columns
    _assert_pngs(page, refs)


def test_an_nb201_sweep_without_the_benchmark_says_where_to_put_it(tmp_path):
    make_sweep(tmp_path, "nb201")
    text = Path(write_report(str(tmp_path))).read_text()
    assert "No derived cell was found in NAS-Bench-201" in text and "docs/nas-bench-201.md" in text
    make_sweep(tmp_path / "darts", "darts")
    assert "NAS-Bench-201" not in Path(write_report(str(tmp_path / "darts"))).read_text()
