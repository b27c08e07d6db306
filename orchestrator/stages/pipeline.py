"""`alphadarts pipeline`: sweep -> select -> retrain -> report, the whole answer to "which
architecture, and how good is it really?".

Each stage leaves its results on disk, and a stage whose results are complete is not run
again, so the same command after an interruption (Ctrl+C, a lost driver) continues where it
stopped: an unfinished sweep resumes (finished trials kept), the retrain runs only the
(genotype, seed) pairs retrain.parquet does not hold as finished, and each unfinished run
continues from its last checkpoint. The report is rewritten from the tables every time.

Layout: `<output_dir>/<name>-sweep/` and `<name>-retrain/` as the two stages write them, and
`<output_dir>/<name>-pipeline/` with `report.html` (+ `report/` figures), `selection.json` and
`experiment.json`, which names the two others (orchestrator.tables.experiment_dirs).
"""

from __future__ import annotations

import logging
from dataclasses import asdict

from orchestrator.config import ExperimentConfig
from orchestrator.errors import UsageError
from orchestrator.tables.experiment_dirs import record_pipeline
from orchestrator.interrupts import Interrupted
from orchestrator.cluster.resources import DEFAULT_WAIT_S
from orchestrator.tables.results import FINISHED, load_trials
from orchestrator.cluster.run_identity import move_aside
from orchestrator.stages.retrain import RetrainTarget, retrain_dir, retrain_door, run_retrain
from orchestrator.stages.selection import select_genotypes
from orchestrator.cluster.storage import join, write_json
from orchestrator.stages.stage_door import StageDoor
from orchestrator.stages.sweep import experiment_dir as sweep_dir, run_sweep, sweep_door, where_sweep_stopped

log = logging.getLogger(__name__)

SELECTION_FILE = "selection.json"


def pipeline_dir(config: ExperimentConfig) -> str:
    return join(config.storage_path, f"{config.name}-pipeline")


def pipeline_door(config: ExperimentConfig) -> StageDoor:
    """The pipeline's own directory; its stages' doors say what they run and read."""
    return StageDoor("pipeline", pipeline_dir(config), config)


def run_pipeline(config: ExperimentConfig, address: str | None = None, restart: bool = False,
                 resource_wait: float = DEFAULT_WAIT_S) -> dict:
    """Run (or continue) every stage; return what `pipeline --json` prints. `restart` moves
    the pipeline's, its sweep's and its retrain's directories aside and starts over."""
    # every stage's door checked once, before Ray starts or any stage runs
    door = pipeline_door(config)
    stage_doors = (sweep_door(config), retrain_door(config))
    for each in (door, *stage_doors):
        each.check(address, restart)
    with door.held():  # a second pipeline of this name is refused (exit 2)
        if restart:
            for each in stage_doors:
                move_aside(each.path, each.kind)
        door.record(restart)
        record_pipeline(door.path, sweep_dir(config), retrain_dir(config))
        return _run_pipeline_locked(config, door, address, resource_wait)


def _run_pipeline_locked(config: ExperimentConfig, door: StageDoor, address: str | None,
                         resource_wait: float) -> dict:
    stages = {}
    door.announce("start")
    stages["sweep"] = "skipped (finished before)" if sweep_finished(config) else "ran"
    if stages["sweep"] == "ran":
        summary = run_sweep(config, address=address, resource_wait=resource_wait, checked=True)
        if summary["interrupted"]:  # SIGINT/SIGTERM: one line, exit 130/143 (cli.py)
            raise Interrupted("in the sweep stage, " + where_sweep_stopped(sweep_dir(config),
                                                                            config.sweep.num_samples))

    trials, meta = load_trials(sweep_dir(config))
    candidates = select_genotypes(trials, meta, config.pipeline.select)
    space = config.search.model.space
    write_json(join(pipeline_dir(config), SELECTION_FILE),
               {"rule": config.pipeline.select.model_dump(), "candidates": [asdict(c) for c in candidates]})
    log.info("selected %d genotype(s) for retraining", len(candidates))

    targets = [RetrainTarget.from_candidate(c, space, sweep_dir(config)) for c in candidates]
    retrained = run_retrain(config, targets, config.pipeline.retrain_seeds, address=address,
                            resource_wait=resource_wait, checked=True)
    stages["retrain"] = "ran" if retrained["runs"] else "skipped (finished before)"
    failed = [r for r in retrained["runs"] if r["status"] != "TERMINATED"]

    from orchestrator.report import write_report  # matplotlib: only when a report is drawn

    report = write_report(pipeline_dir(config), sweep_dir=sweep_dir(config),
                          retrain_dir=retrain_dir(config))
    stages["report"] = "written"
    door.announce("end")
    return {
        "experiment_dir": pipeline_dir(config),
        "report": report,
        "sweep_dir": sweep_dir(config),
        "retrain_dir": retrain_dir(config),
        "stages": stages,
        "objective": meta["metric"],
        "genotypes": [_genotype_answer(g, candidates) for g in retrained["genotypes"]],
        "failed_runs": [{"genotype_hash": r["genotype_hash"], "seed": r["seed"], "error": r.get("error")}
                        for r in failed],
    }


def sweep_finished(config: ExperimentConfig) -> bool:
    """Whether the sweep's table holds every trial as finished (then it is not run again)."""
    try:
        trials, _ = load_trials(sweep_dir(config))
    except UsageError:
        return False
    return int(trials["status"].isin(FINISHED).sum()) >= config.sweep.num_samples


def _genotype_answer(row: dict, candidates) -> dict:
    by_hash = {c.genotype_hash: c for c in candidates}
    source = by_hash.get(row["genotype_hash"])
    return {
        "genotype_hash": row["genotype_hash"],
        "genotype": row["genotype"],
        "test_acc_mean": row["test_acc_mean"],
        "test_acc_std": row["test_acc_std"],
        "seeds": row["seeds"],
        "params": row["params"],
        "macs": row["macs"],
        "sweep_objective": None if source is None else source.objective,
        "source_trials": [] if source is None else list(source.source_trials),
    }

