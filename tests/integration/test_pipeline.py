"""`alphadarts pipeline` end to end on the shared local Ray instance: a sweep ranked by the
proxy objective, the selection, the retrain of the selected genotypes (two seeds, each a
two-worker DDP Train run), the report opened in a real browser, and reruns that repeat no
finished trial."""

import json
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from report_tables import CHROMIUM, browser_check, page_refs

from orchestrator.cli import main
from orchestrator.retrain_table import RETRAIN_SCHEMA
from search_space import build_network, count_parameters, genotype_from_dict

pytestmark = pytest.mark.ray

TINY = [
    "sweep.num_samples=2", "sweep.max_concurrent_trials=2", "sweep.space.seed=[0, 1]",
    "sweep.objective.metric=proxy_acc",
    "search.epochs=2", "search.data.subset=128", "search.model.channels=4",
    "search.model.layers=3", "search.mim.decoder_width=8",
    "proxy.epochs=1", "proxy.data.subset=128", "proxy.data.test_subset=64",
    "proxy.model.channels=4", "proxy.model.layers=2",
    "retrain.epochs=2", "retrain.data.subset=128", "retrain.data.test_subset=96",
    "retrain.data.image_size=8", "retrain.data.batch_size=16", "retrain.model.channels=4",
    "retrain.model.layers=3", "retrain.cutout_length=2",
    "retrain.runtime.num_workers=2", "retrain.runtime.cpus_per_worker=0.25",
    "pipeline.select.top_k=1", "pipeline.retrain_seeds=2",
]


def _run(tmp_path, capsys) -> dict:
    args = ["pipeline", "quickstart", "--set", f"output_dir={tmp_path}", "--set", "name=p", "--json"]
    for item in TINY:
        args += ["--set", item]
    assert main(args) == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_pipeline_answers_and_a_rerun_repeats_no_finished_trial(ray_session, tmp_path, capsys):
    started = time.perf_counter()
    summary = _run(tmp_path, capsys)
    wall = time.perf_counter() - started
    sweep, retrain = Path(summary["sweep_dir"]), Path(summary["retrain_dir"])
    assert summary["experiment_dir"] == str(tmp_path / "p-pipeline")
    assert summary["stages"] == {"sweep": "ran", "retrain": "ran", "report": "written"}

    # the sweep ranked by the proxy accuracy: the objective is it, and the leaderboard shows it
    trials = pd.read_parquet(sweep / "trials.parquet")
    finished = trials[trials.status == "TERMINATED"]
    assert summary["objective"] == "proxy_acc" and len(finished) >= 1
    assert finished.proxy_acc.notna().all() and (finished.objective == finished.proxy_acc).all()
    assert main(["results", str(sweep)]) == 0
    assert "proxy_acc" in capsys.readouterr().out
    best = finished.sort_values("objective", ascending=False, kind="stable").iloc[0]

    # the retrain: the selected genotype (the best by proxy_acc), two seeds, two workers each
    table = pq.read_table(retrain / "retrain.parquet")
    assert table.schema.names == RETRAIN_SCHEMA.names
    rows = table.to_pandas()
    assert list(rows.seed) == [0, 1] and (rows.status == "TERMINATED").all() and (rows.epochs == 2).all()
    assert (rows.genotype_hash == best.genotype_hash).all()
    assert best.trial_id in list(rows.source_trials[0])
    genotype = genotype_from_dict(json.loads(rows.genotype_json[0]))
    assert (rows.params == count_parameters(build_network("darts", genotype, 10, 4, 3))).all()
    assert rows.test_ce.nunique() == 2  # the seeds really differ
    for result in retrain.glob("*/result.json"):
        reports = [json.loads(line) for line in result.read_text().splitlines()]
        assert [r["epoch"] for r in reports] == [1, 2] and all(r["workers"] == 2 for r in reports)

    (answer,) = summary["genotypes"]
    assert answer["genotype_hash"] == best.genotype_hash and answer["seeds"] == 2
    assert answer["test_acc_mean"] == pytest.approx(rows.test_acc.mean())
    assert answer["test_acc_std"] == pytest.approx(rows.test_acc.std(ddof=1))
    assert answer["params"] == rows.params[0]

    # the report, opened in a real browser
    page = Path(summary["report"])
    assert page == tmp_path / "p-pipeline" / "report.html"
    if CHROMIUM is not None:
        verdict = browser_check(page, tmp_path / "profile")
        assert verdict["broken"] == [] and verdict["images"] == page_refs(page).images
        assert verdict["leaderboard_rows"] == 1

    # the same command again: every stage is complete, nothing runs, the tables stay as they were
    epochs_before = (sweep / "epochs.parquet").read_bytes()
    retrain_before = (retrain / "retrain.parquet").read_bytes()
    again = _run(tmp_path, capsys)
    assert again["stages"]["sweep"].startswith("skipped") and again["stages"]["retrain"].startswith("skipped")
    assert (sweep / "epochs.parquet").read_bytes() == epochs_before
    assert (retrain / "retrain.parquet").read_bytes() == retrain_before
    assert again["genotypes"] == summary["genotypes"]

    # stopped in the retrain after one seed finished (its row is written, the other's not):
    # the rerun runs only the missing seed, whose Train run had finished and only re-reports
    kept = rows[rows.seed == 0]
    pq.write_table(pq.read_table(retrain / "retrain.parquet").slice(0, 1), retrain / "retrain.parquet")
    third = _run(tmp_path, capsys)
    assert third["stages"]["sweep"].startswith("skipped") and third["stages"]["retrain"] == "ran"
    after = pd.read_parquet(retrain / "retrain.parquet")
    assert list(after.seed) == [0, 1] and after.run_dir[0] == kept.run_dir.iloc[0]
    # not trained again: the re-reported run keeps its recorded wall time and accuracy
    assert after.wall_time_s[1] == rows.wall_time_s[1] and after.test_acc[1] == rows.test_acc[1]
    print(f"tiny pipeline: {wall:.1f} s")
