"""The retrain stage: genotypes trained from scratch with N seeds each, every (genotype,
seed) pair a parallel Ray Tune trial (a grid, no search algorithm), each trial a Ray Train
run of the train loop with the resources of `retrain.runtime`.

Layout of `<output_dir>/<name>-retrain/`:
  Tune's own files, one trial_<id>/ per (genotype, seed) (result.json, TensorBoard events)
  runs/<genotype_hash>-seed<k>/   the Train run (checkpoints); a rerun resumes it
  retrain.parquet                 one row per (genotype, seed), columns RETRAIN_SCHEMA
  experiment.json                 the sweeps its genotypes came from (orchestrator.tables.experiment_dirs)

Train runs are named after the genotype and the seed, so the same command run again trains
only what is missing: a finished run reports its final epoch again without training.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field

from orchestrator.config import ExperimentConfig
from orchestrator.errors import UsageError
from orchestrator.tables.experiment_dirs import record_retrain_sources
from orchestrator.interrupts import Interrupted
from orchestrator.cluster.resources import DEFAULT_WAIT_S
from orchestrator.tables.retrain_table import genotype_leaderboard, load_retrain, merge_retrain
from orchestrator.stages.stage_door import StageDoor
from orchestrator.cluster.storage import join
from orchestrator.stages.trial_exit import exits_on_stop
from orchestrator.stages.tracking import tracking_callbacks
from orchestrator.stages import trial_runner as runner
from search_space import Genotype, genotype_from_dict
from trainables.train_config import TrainConfig

RUNS_DIR = "runs"


@dataclass(frozen=True)
class RetrainTarget:
    """A genotype to retrain and where it came from (sweep trials and their knobs, if any)."""

    genotype: Genotype
    source_trials: tuple[str, ...] = ()
    knobs: dict = field(default_factory=dict)
    sweep_dir: str | None = None  # the sweep of those trials (recorded in the retrain's directory)

    @classmethod
    def from_candidate(cls, candidate, space: str, sweep_dir: str | None = None) -> "RetrainTarget":
        """From a `selection.Candidate` (the pipeline's top-k of the sweep in `sweep_dir`)."""
        genotype = genotype_from_dict(json.loads(candidate.genotype_json), space)
        return cls(genotype, tuple(candidate.source_trials), dict(candidate.knobs), sweep_dir)


def resolve_genotype(space: str, text: str) -> RetrainTarget:
    """What `--genotype` names (orchestrator.tables.genotype_ref: a published name, a string, JSON,
    DIR:TRIAL_ID or DIR:HASH), with the sweep trials that found it when it names them."""
    from orchestrator.tables.genotype_ref import resolve

    ref = resolve(text, space, space_rule=f"the config's retrain.space is {space!r}")
    sweep = ref.experiment.sweep if ref.experiment is not None and ref.source_trials else None
    return RetrainTarget(ref.genotype, ref.source_trials, ref.knobs, sweep)


def experiment_name(config: ExperimentConfig) -> str:
    return f"{config.name}-retrain"


def run_name(genotype: Genotype, seed: int) -> str:
    return f"{genotype.key}-seed{seed}"


# --- one trial -----------------------------------------------------------------------------

@exits_on_stop
def retrain_trial(knobs: dict, *, base: TrainConfig, targets: list[RetrainTarget], runs_dir: str,
                  in_trial: bool) -> None:
    """Tune function trainable: train target `knobs["pair"][0]` with seed `knobs["pair"][1]`,
    in this trial's process (one worker) or on Ray Train (several). `base` is the validated
    config itself; the loop receives it with the seed set."""
    from orchestrator.stages.in_trial import train_in_trial

    target, seed = knobs["pair"]
    config = base.model_copy(update={"seed": int(seed)})
    genotype = targets[int(target)].genotype
    name = run_name(genotype, config.seed)
    if in_trial:  # decided by the driver, which also sized the trial's resources for it
        train_in_trial(config, genotype, join(runs_dir, name))
        return
    if report_finished_train_run(config, genotype, join(runs_dir, name)):
        return
    from ray.tune.integration.ray_train import TuneReportCallback

    from trainables.ray_train import build_train_trainer

    runner.fit_in_trial(build_train_trainer(config, genotype, runs_dir, name, callbacks=[TuneReportCallback()]))


def report_finished_train_run(config: TrainConfig, genotype: Genotype, run_dir: str) -> bool:
    """A Ray Train run of this pair that already ran its last epoch (the stage was stopped
    after the run ended, before its row was written): report its result again from its
    checkpoint, here in the trial, without starting a worker group for it (a controller and
    a worker process per rank, each importing torch, to report one dict)."""
    from orchestrator.stages.search_run import latest_checkpoint
    from trainables.checkpoint import STATE_FILE, load_state
    from trainables.train_loop import finished_result

    checkpoint, epoch = latest_checkpoint(run_dir)
    if checkpoint is None or epoch < config.epochs:
        return False
    result = finished_result(load_state(join(checkpoint, STATE_FILE)), config, genotype)
    if result is None:  # another genotype or config under this name: Train refuses it
        return False
    from ray import tune

    tune.report(result)
    return True


# --- the stage -----------------------------------------------------------------------------

def retrain_dir(config: ExperimentConfig) -> str:
    return join(config.storage_path, experiment_name(config))


def run_retrain(config: ExperimentConfig, targets: list[RetrainTarget], seeds: int,
                address: str | None = None, restart: bool = False,
                resource_wait: float = DEFAULT_WAIT_S, checked: bool = False) -> dict:
    """Train every target with seeds retrain.seed .. retrain.seed + seeds - 1, all pairs in
    parallel as the cluster allows; return the per-run rows and the per-genotype summary.
    Pairs that retrain.parquet already holds as finished are not run again; `restart` moves
    the earlier retrain directory aside and starts over; `checked`: the pipeline has passed
    the door."""
    if seeds < 1:
        raise UsageError(f"--seeds {seeds}: at least 1 is needed")
    if not targets:
        raise UsageError("nothing to retrain: no genotype was given or selected")
    door = retrain_door(config)
    if not checked:
        door.check(address, restart)
    with door.held():
        return _run_retrain_locked(config, targets, seeds, address, door, restart, resource_wait)


def retrain_door(config: ExperimentConfig) -> StageDoor:
    """What the retrain checks before Ray starts and holds while it runs (orchestrator.stages.stage_door)."""
    return StageDoor("retrain", retrain_dir(config), config, ((config.retrain.runtime, "retrain.runtime"),),
                     (config.retrain.data.loading(),), driver_cpu=runner.DRIVER_CPU)


def _run_retrain_locked(config: ExperimentConfig, targets: list[RetrainTarget], seeds: int,
                        address: str | None, door: StageDoor, restart: bool, resource_wait: float) -> dict:
    import ray
    from ray import tune

    from orchestrator.stages.phase_marks import callbacks as phase_callbacks
    from orchestrator.stages.tune_output import ScalarTBXLoggerCallback, progress_reporting
    from orchestrator.stages.in_trial import runs_in_trial

    train, path = config.retrain, door.path
    runs_dir = join(path, RUNS_DIR)
    seed_values = list(range(train.seed, train.seed + seeds))
    done = set() if restart else finished_pairs(path)
    pairs = [(i, seed) for i, target in enumerate(targets) for seed in seed_values
             if (target.genotype.key, seed) not in done]
    if not pairs:
        return summary(path, targets, [])
    rt = train.runtime
    door.record(restart)
    record_retrain_sources(path, [t.sweep_dir for t in targets if t.sweep_dir])
    door.start_ray(address, resource_wait)
    in_trial = runs_in_trial(rt, runs_dir, config.cluster.driver_resource)
    trainable = tune.with_resources(
        tune.with_parameters(retrain_trial, base=train, targets=list(targets), runs_dir=runs_dir,
                             in_trial=in_trial),
        runner.trainable_resources(rt, in_trial, config.cluster.driver_resource),
    )
    tuner = tune.Tuner(
        trainable,
        param_space={"pair": tune.grid_search(pairs)},
        tune_config=tune.TuneConfig(
            max_concurrent_trials=runner.trials_that_fit(rt, in_trial, config.cluster.driver_resource,
                                                         ray.cluster_resources(), len(pairs), None, "retrain.runtime"),
            trial_dirname_creator=runner.trial_dirname,
            reuse_actors=True,  # a finished trial's process runs the next: no new torch import
        ),
        run_config=tune.RunConfig(
            name=experiment_name(config),
            storage_path=config.storage_path,
            failure_config=tune.FailureConfig(max_failures=0),
            callbacks=[ScalarTBXLoggerCallback(), *phase_callbacks(),
                       *tracking_callbacks(config.tracking, experiment_name(config),
                                           functools.partial(run_params, [t.genotype.key for t in targets]))],
            **progress_reporting(["epoch", "test_acc", "test_ce", "train_acc"], ["pair"]),
        ),
    )
    door.announce("start")
    try:
        grid = tuner.fit()  # a SIGINT (or SIGTERM, orchestrator.interrupts) ends it gracefully
    except KeyboardInterrupt:  # a second signal, while Tune was saving its state
        raise Interrupted(where_retrain_stopped(path, len(pairs), None)) from None
    door.announce("end")

    rows = []
    for result in grid:
        index, seed = result.config["pair"]
        target = targets[int(index)]
        genotype, seed = target.genotype, int(seed)
        metrics = result.metrics or {}
        finished = result.error is None and metrics.get("epoch") == train.epochs
        rows.append({
            "genotype_hash": genotype.key,
            "genotype": str(genotype),
            "genotype_json": genotype.to_json(),
            "space": genotype.space,
            "source_trials": list(target.source_trials),
            "knobs": json.dumps(target.knobs, sort_keys=True),
            "seed": seed,
            # a run a stop signal ended early reports no error: STOPPED, rerun to resume it
            "status": "TERMINATED" if finished else ("ERROR" if result.error else "STOPPED"),
            **{k: metrics.get(k) for k in ("test_acc", "test_ce", "train_acc", "params", "macs",
                                           "wall_time_s")},
            "epochs": metrics.get("epoch"),
            "run_dir": join(runs_dir, run_name(genotype, seed)),
            "error": None if result.error is None else _one_line(result.error),
        })
    order = {t.genotype.key: i for i, t in enumerate(targets)}
    rows.sort(key=lambda r: (order[r["genotype_hash"]], r["seed"]))
    merge_retrain(path, rows)
    if any(r["status"] == "STOPPED" for r in rows):  # SIGINT/SIGTERM: exit 130/143 (cli.py)
        raise Interrupted(where_retrain_stopped(path, len(pairs), rows))
    return summary(path, targets, rows)


def run_params(genotype_hashes: list[str], config: dict) -> dict:
    """What MLflow records as a retrain run's params: its genotype and seed."""
    index, seed = config["pair"]
    return {"genotype_hash": genotype_hashes[int(index)], "seed": int(seed)}


def where_retrain_stopped(path: str, num_runs: int, rows: list[dict] | None) -> str:
    """"in the retrain stage with 1 of 4 runs finished in DIR (...)"."""
    done = "?" if rows is None else sum(r["status"] != "STOPPED" for r in rows)
    return (f"in the retrain stage with {done} of {num_runs} runs finished in {path} "
            "(unfinished runs resume from their last checkpoint)")


def finished_pairs(path: str) -> set[tuple[str, int]]:
    """(genotype hash, seed) of the runs retrain.parquet holds as finished."""
    table = load_retrain(path)
    if table is None:
        return set()
    done = table[table["status"] == "TERMINATED"]
    return {(str(h), int(s)) for h, s in zip(done["genotype_hash"], done["seed"])}


def summary(path: str, targets: list[RetrainTarget], rows: list[dict]) -> dict:
    """The stage's answer: the runs made now, and per target genotype its mean ± std over
    every finished seed in retrain.parquet (this run's and earlier ones)."""
    from orchestrator.tables.results import records

    table = load_retrain(path)
    keys = [t.genotype.key for t in targets]
    board = genotype_leaderboard(table[table["genotype_hash"].isin(keys)]) if table is not None else None
    return {"experiment_dir": path, "genotypes": [] if board is None else records(board), "runs": rows}


def _one_line(error: BaseException) -> str:
    cause = getattr(error, "cause", None) or error  # RayTaskError wraps the trial's own
    lines = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {lines[-1] if lines else ''}".rstrip(": ")
