"""`alphadarts pipeline` end to end on the shared local Ray instance: a sweep ranked by the
proxy objective (each trial a two-worker Ray Train run inside its Tune trial: search, then
proxy training, on the same workers; single-worker trials, which run in the Tune trial
itself, are test_sweep's), the selection, the retrain of the selected genotypes (two seeds, each a
two-worker DDP Train run), the report opened in a real browser, and reruns that repeat no
finished trial; the console stays small, TensorBoard holds every trial's HParams, and the
dashboards serve the sweep; every trial process ends by itself, so the console holds no
teardown traceback."""

import json
import re
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from report_tables import CHROMIUM, browser_check, page_refs, tensorboard_hparams

from orchestrator.cli import main
from orchestrator.dashboard import Dashboards, ray_dashboard_url, resolve_target
from orchestrator.tables.retrain_table import RETRAIN_SCHEMA
from search_space import build_network, count_parameters, genotype_from_dict

pytestmark = pytest.mark.ray

TINY = [
    "sweep.num_samples=2", "sweep.max_concurrent_trials=2", "sweep.space.seed=[0, 1]",
    "search.epochs=2", "search.data.subset=128", "search.model.channels=4",
    "search.model.layers=3", "search.mim.decoder_width=8",
    "search.runtime.num_workers=2", "search.runtime.cpus_per_worker=0.25",
    "proxy.epochs=1", "proxy.data.subset=128",
    "proxy.model.channels=4", "proxy.model.layers=2",
    "retrain.epochs=2", "retrain.data.subset=128", "retrain.data.test_subset=96",
    "retrain.data.image_size=8", "retrain.data.batch_size=16", "retrain.model.channels=4",
    "retrain.model.layers=3", "retrain.cutout_length=2",
    "retrain.runtime.num_workers=2", "retrain.runtime.cpus_per_worker=0.25",
    "pipeline.select.top_k=1", "pipeline.retrain_seeds=2",
]


#: the console of the tiny pipeline (sweep + retrain + report), stdout and stderr at the
#: file-descriptor level (Ray's forwarded worker logs included), must stay under this
CONSOLE_LIMIT = 40_000
#: an α matrix as Python/JSON prints it: a list of lists of floats
ALPHA_LIST = re.compile(r"\[\[\s*-?\d+\.\d+(e-?\d+)?,\s*-?\d+\.\d+")


#: what a Python process prints when an exception it cannot raise is dropped (a SystemExit
#: from Ray's SIGTERM handler inside a weakref callback, ray-project/ray#13487)
TEARDOWN_NOISE = ("Traceback", "Exception ignored")
#: Tune's name for a trial actor of each stage: its trainable function's
TRIAL_ACTORS = ("run_trial", "retrain_trial")


def worker_logs() -> dict[Path, int]:
    """The core-worker log files of this Ray instance, each with its size now."""
    import ray

    logs = Path(ray._private.worker.global_worker.node.get_logs_dir_path())  # no public API
    return {f: f.stat().st_size for f in logs.glob("python-core-worker-*.log")}


def signalled_trial_workers(before: dict[Path, int]) -> list[str]:
    """The worker logs that, past their size in `before`, show a trial actor of ours ended by a
    SIGTERM: how Tune ends a trial whose process is still there when it frees the trial's
    placement group. Only what was written since counts: earlier tests share the instance."""
    actor = re.compile(r"actor_repr_name: (%s)\b" % "|".join(TRIAL_ACTORS))
    found = []
    for log in worker_logs():
        with log.open("rb") as f:
            f.seek(before.get(log, 0))
            text = f.read().decode(errors="replace")
        if actor.search(text) and "The process receives a SIGTERM" in text:
            found.append(log.name)
    return sorted(found)


def _run(tmp_path, capfd, console: list | None = None) -> dict:
    args = ["pipeline", "quickstart", "--set", f"output_dir={tmp_path}", "--set", "name=p", "--json"]
    for item in TINY:
        args += ["--set", item]
    code = main(args)
    captured = capfd.readouterr()
    if console is not None:
        console.append(captured.out + captured.err)
    assert code == 0, captured.err[-3000:]
    return json.loads(captured.out.strip().splitlines()[-1])


def _get(url: str):
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def test_pipeline_answers_and_a_rerun_repeats_no_finished_trial(ray_session, tmp_path, capfd):
    started = time.perf_counter()
    console = []
    logs_before = worker_logs()
    summary = _run(tmp_path, capfd, console)
    wall = time.perf_counter() - started
    (tmp_path / "console.txt").write_text(console[0])

    # a quiet console: the status table and the directories, no α, no whole result dicts
    size = len(console[0].encode())
    assert size < CONSOLE_LIMIT, f"console {size} bytes: {console[0][-3000:]}"
    assert not ALPHA_LIST.search(console[0]), ALPHA_LIST.search(console[0]).group(0)
    assert "Reporting training result" not in console[0] and "'alphas'" not in console[0]
    assert "invalid value" not in console[0]  # Tune's TensorBoard logger saw no lists
    # a clean end: no trial process was killed, so none printed a traceback on its way out
    assert signalled_trial_workers(logs_before) == []
    assert not [word for word in TEARDOWN_NOISE if word in console[0]], console[0][-3000:]
    pipeline_dir = tmp_path / "p-pipeline"
    assert f"pipeline start: {pipeline_dir}  (watch it: alphadarts dashboard {pipeline_dir})" in console[0]
    assert f"sweep end: {tmp_path / 'p-sweep'}" in console[0] and "param_free_ops" in console[0]
    sweep, retrain = Path(summary["sweep_dir"]), Path(summary["retrain_dir"])
    assert summary["experiment_dir"] == str(tmp_path / "p-pipeline")
    assert summary["stages"] == {"sweep": "ran", "retrain": "ran", "report": "written"}

    # the sweep ranked by the proxy accuracy: the objective is it, and the leaderboard shows it
    trials = pd.read_parquet(sweep / "trials.parquet")
    finished = trials[trials.status == "TERMINATED"]
    assert summary["objective"] == "proxy_acc" and len(finished) >= 1
    assert finished.proxy_acc.notna().all() and (finished.objective == finished.proxy_acc).all()
    assert main(["results", str(sweep), "--json"]) == 0
    shown = capfd.readouterr().out
    assert "proxy_acc" in shown and "which knob matters for proxy_acc: fANOVA" in shown
    importances = json.loads(shown.strip().splitlines()[-1])["importances"]
    # one setting (plain DARTS, the first), run with both seeds: one Optuna trial
    assert importances["evaluator"] == "fanova" and importances["finished_trials"] == 1

    # TensorBoard's own reader finds every trial's HParams (its knobs) in the sweep directory
    meta_knobs = json.loads(pq.read_schema(sweep / "trials.parquet").metadata[b"alphadarts.sweep"])["knobs"]
    for row in trials.itertuples():
        hparams = tensorboard_hparams(sweep / f"trial_{row.trial_id}")
        assert set(hparams) == set(meta_knobs), (row.trial_id, hparams)
        assert all(hparams[k] == pytest.approx(getattr(row, k)) for k in meta_knobs)

    # the dashboards on the pipeline's directory: its sweep's and retrain's runs, the sweep's
    # study, then stopped
    dashboards = Dashboards(resolve_target(str(pipeline_dir)))
    urls = dashboards.start()
    try:
        runs = _get(urls["tensorboard"] + "data/runs")
        assert {f"sweep/trial_{t}" for t in trials.trial_id} <= set(runs)
        assert any(run.startswith("retrain/trial_") for run in runs)
        (study,) = _get(urls["optuna-dashboard"] + "api/studies")["study_summaries"]
        assert study["study_name"] == "p"
        detail = _get(urls["optuna-dashboard"] + f"api/studies/{study['study_id']}")
        assert sum(t["state"] == "Complete" for t in detail["trials"]) == 1
    finally:
        dashboards.stop()
    ray_url = ray_dashboard_url()  # the shared Ray instance this process is connected to
    assert ray_url.startswith("http://") and urllib.request.urlopen(ray_url, timeout=10).status == 200
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
    again = _run(tmp_path, capfd)
    assert again["stages"]["sweep"].startswith("skipped") and again["stages"]["retrain"].startswith("skipped")
    assert (sweep / "epochs.parquet").read_bytes() == epochs_before
    assert (retrain / "retrain.parquet").read_bytes() == retrain_before
    assert again["genotypes"] == summary["genotypes"]

    # stopped in the retrain after one seed finished (its row is written, the other's not):
    # the rerun runs only the missing seed, whose Train run had finished and only re-reports
    kept = rows[rows.seed == 0]
    pq.write_table(pq.read_table(retrain / "retrain.parquet").slice(0, 1), retrain / "retrain.parquet")
    third = _run(tmp_path, capfd, console)
    assert not [word for word in TEARDOWN_NOISE if word in console[1]], console[1][-3000:]
    assert third["stages"]["sweep"].startswith("skipped") and third["stages"]["retrain"] == "ran"
    after = pd.read_parquet(retrain / "retrain.parquet")
    assert list(after.seed) == [0, 1] and after.run_dir[0] == kept.run_dir.iloc[0]
    # not trained again: the re-reported run keeps its recorded wall time and accuracy
    assert after.wall_time_s[1] == rows.wall_time_s[1] and after.test_acc[1] == rows.test_acc[1]
    print(f"tiny pipeline: {wall:.1f} s, console {size} bytes")
