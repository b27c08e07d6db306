"""The sweep: Ray Tune runs one supernet search (a Ray Train run) per trial, Optuna's TPE
picks each trial's knobs, and ASHA stops weak trials early on `epoch`.

Layout of the experiment directory `<output_dir>/<name>-sweep/`:
  tuner.pkl, experiment_state-*.json, searcher/scheduler state   Tune's own, for --resume
  trial_<id>/          Tune's per-trial files: result.json, progress.csv, TensorBoard events
  searches/<id>/       the trial's Train run (checkpoints); a resumed trial continues there
  optuna.db            the Optuna study (SQLite), one finished trial per finished Tune trial
  config.json          the config the sweep started with (a resume must use the same one)
  trials.parquet, epochs.parquet   written by `SweepRecorder` as results come in
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import ray
from ray import cloudpickle, tune

from orchestrator.config import ExperimentConfig
from orchestrator.errors import RunFailed, UsageError
from orchestrator.ray_runtime import ensure_ray
from orchestrator.results import (
    EPOCHS_FILE,
    FINISHED,
    TRIAL_METRICS,
    TRIALS_FILE,
    load_trials,
    read_rows,
    summarize,
    write_epochs,
    write_trials,
)
from orchestrator.storage import join, write_json
from orchestrator.sweep_config import FloatRange, IntRange, SweepSpace, apply_knobs, encode_phases
from search_space import parse_genotype
from trainables.checkpoint import STATE_FILE, load_state
from trainables.config import RuntimeConfig, SearchConfig
from trainables.data import check_data_source

log = logging.getLogger(__name__)

SEARCHES_DIR = "searches"
STUDY_FILE = "optuna.db"
CONFIG_FILE = "config.json"
#: CPU reserved for a trial's driver (the Tune function that only waits on its Train run);
#: Ray refuses exactly 0, and a whole CPU per driver starves a small machine (RAY.md).
DRIVER_CPU = 0.01


def experiment_dir(config: ExperimentConfig) -> str:
    return join(config.storage_path, experiment_name(config))


def experiment_name(config: ExperimentConfig) -> str:
    return f"{config.name}-sweep"


def check_sweep(config: ExperimentConfig) -> None:
    """Rules that tie the sweep to the search, checked before Ray starts."""
    if "://" in config.storage_path:
        raise UsageError(
            f"output_dir={config.output_dir!r}: a sweep keeps its Optuna study in SQLite next "
            "to its results, so it needs a local or shared (NFS) path"
        )
    grace, epochs = config.sweep.scheduler.grace_period, config.search.epochs
    if grace > epochs:
        raise UsageError(
            f"sweep.scheduler.grace_period={grace} must not exceed search.epochs={epochs}"
        )
    check_data_source(config.search.data)


# --- knobs ---------------------------------------------------------------------------------

def tune_space(space: SweepSpace) -> dict:
    """The swept knobs as Tune domains; OptunaSearch turns them into Optuna distributions."""
    domains = {}
    for knob in space.swept:
        value = getattr(space, knob)
        if isinstance(value, FloatRange):
            if value.log:
                domains[knob] = tune.loguniform(value.low, value.high)
            elif value.step is not None:
                domains[knob] = tune.quniform(value.low, value.high, value.step)
            else:
                domains[knob] = tune.uniform(value.low, value.high)
        elif isinstance(value, IntRange):
            domains[knob] = tune.randint(value.low, value.high + 1)  # Tune's upper bound is open
        elif knob == "phases":
            domains[knob] = tune.choice([encode_phases(p) for p in value])
        else:
            domains[knob] = tune.choice(list(value))
    return domains


# --- one trial -----------------------------------------------------------------------------

class TrialFailed(RuntimeError):
    """A trial's search failed; the message is the root cause, in one line."""


def run_trial(knobs: dict, *, base: dict, searches_dir: str) -> None:
    """Tune function trainable: one supernet search on Ray Train with this trial's knobs.

    The Train run is named after the trial id, so a restarted trial (a resumed sweep, a
    retried failure) finds its run directory and continues from the last checkpoint.
    """
    from ray.train import TrainingFailedError
    from ray.tune.integration.ray_train import TuneReportCallback

    from orchestrator.search_run import one_line, root_cause
    from trainables.ray_search import build_search_trainer

    search = apply_knobs(SearchConfig.model_validate(base), knobs)
    trial_id = tune.get_context().get_trial_id()
    trainer = build_search_trainer(search, searches_dir, trial_id, callbacks=[TuneReportCallback()])
    try:
        trainer.fit()
    except TrainingFailedError as exc:
        failures = getattr(exc, "worker_failures", None) or {}
        first = next(iter(failures.values()), getattr(exc, "controller_failure", exc))
        raise TrialFailed(f"{type(root_cause(first)).__name__}: {one_line(first)}") from None


def trial_resources(runtime: RuntimeConfig) -> dict[str, float]:
    """What one trial holds while it runs: its Train workers plus its driver's sliver."""
    resources = {"CPU": runtime.num_workers * runtime.cpus_per_worker + DRIVER_CPU}
    if runtime.use_gpu:
        resources["GPU"] = runtime.num_workers * runtime.gpus_per_worker
    return resources


def max_concurrent_trials(config: ExperimentConfig, cluster: dict[str, float]) -> int:
    """`sweep.max_concurrent_trials`, else as many trials as the cluster's resources hold
    now (more would only wait in Ray's queue)."""
    if config.sweep.max_concurrent_trials is not None:
        return config.sweep.max_concurrent_trials
    needs = trial_resources(config.search.runtime)
    fits = min(math.floor(cluster.get(kind, 0.0) / amount + 1e-9) for kind, amount in needs.items())
    if fits < 1:
        have = ", ".join(f"{cluster.get(kind, 0.0):g} {kind}" for kind in needs)
        want = ", ".join(f"{amount:g} {kind}" for kind, amount in needs.items())
        raise UsageError(
            f"one trial needs {want} (search.runtime), the cluster has {have}; lower "
            "search.runtime.num_workers/cpus_per_worker/gpus_per_worker, or set "
            "sweep.max_concurrent_trials when the cluster autoscales"
        )
    return min(fits, config.sweep.num_samples)


def _trial_dirname(trial) -> str:
    return f"trial_{trial.trial_id}"


# --- the recorder --------------------------------------------------------------------------

class SweepRecorder(tune.Callback):
    """Keeps trials.parquet and epochs.parquet up to date as Tune reports. It is pickled
    with the Tuner, so on a resume it starts from the tables already on disk."""

    def __init__(self, experiment_dir: str, meta: dict, searches_dir: str):
        self.experiment_dir = experiment_dir
        self.meta = meta
        self.searches_dir = searches_dir
        self._trials: dict[str, dict] = {}
        self._epochs: list[dict] = []

    def setup(self, **info) -> None:
        self._trials = {r["trial_id"]: r for r in read_rows(join(self.experiment_dir, TRIALS_FILE))}
        self._epochs = read_rows(join(self.experiment_dir, EPOCHS_FILE))
        self._write()

    def on_trial_start(self, iteration, trials, trial, **info) -> None:
        self._row(trial)["status"] = "RUNNING"
        write_trials(self.experiment_dir, list(self._trials.values()), self.meta)

    def on_trial_result(self, iteration, trials, trial, result, **info) -> None:
        self._epochs += self._missed_epochs(trial.trial_id, result)
        self._epochs.append({"trial_id": trial.trial_id, **result})
        self._row(trial).update(
            status="RUNNING",
            epochs=result["epoch"],
            objective=result[self.meta["metric"]],
            **{name: result[name] for name in TRIAL_METRICS},
            genotype=result["genotype"],
            genotype_json=parse_genotype(self.meta["space"], result["genotype"]).to_json(),
            genotype_hash=result["genotype_hash"],
            checkpoint=result.get("checkpoint_path"),
            time_total_s=result.get("time_total_s"),
        )
        self._write()

    def on_trial_complete(self, iteration, trials, trial, **info) -> None:
        row = self._row(trial)
        row["status"] = "TERMINATED" if (row.get("epochs") or 0) >= self.meta["epochs"] else "STOPPED"
        self._write()

    def on_trial_error(self, iteration, trials, trial, **info) -> None:
        self._row(trial).update(status="ERROR", error=_error_reason(trial))
        self._write()

    def _missed_epochs(self, trial_id: str, result: dict) -> list[dict]:
        """Epochs whose report was in flight when a sweep was interrupted: the resumed run
        starts after its last checkpoint, so they are taken from that checkpoint's history."""
        seen = {row["epoch"] for row in self._epochs if row["trial_id"] == trial_id}
        if seen >= set(range(1, result["epoch"])):
            return []
        state = load_state(Path(result["checkpoint_path"]) / STATE_FILE)
        return [{"trial_id": trial_id, **m} for m in state["history"]
                if m["epoch"] < result["epoch"] and m["epoch"] not in seen]

    def _row(self, trial) -> dict:
        row = self._trials.setdefault(trial.trial_id, {"trial_id": trial.trial_id})
        row.update({knob: trial.config[knob] for knob in self.meta["knobs"]})
        row["run_dir"] = join(self.searches_dir, trial.trial_id)
        return row

    def _write(self) -> None:
        write_trials(self.experiment_dir, list(self._trials.values()), self.meta)
        write_epochs(self.experiment_dir, self._epochs)


def _error_reason(trial) -> str:
    """The root cause of a trial's failure in one line (Tune keeps the whole traceback in
    the trial directory's error.txt). Read from the trial's local files, which Tune has
    written when it calls `on_trial_error`; the copies in storage may not be synced yet."""
    pickled, text = trial.pickled_error_file, trial.error_file
    if pickled and Path(pickled).is_file():
        error = cloudpickle.loads(Path(pickled).read_bytes())
        cause = getattr(error, "cause", None) or error  # RayTaskError wraps the trial's own
        lines = str(cause).strip().splitlines()
        return f"{type(cause).__name__}: {lines[-1] if lines else ''}".rstrip(": ")
    if text and Path(text).is_file():
        lines = Path(text).read_text().strip().splitlines()
        return lines[-1] if lines else "unknown error (empty error file)"
    return "unknown error (no error file)"


# --- the sweep -----------------------------------------------------------------------------

def run_sweep(config: ExperimentConfig, address: str | None = None, resume: bool = False) -> dict:
    """Run, or continue, the sweep named `config.name`; return `results.summarize`'s dict
    plus `interrupted` (trials left unfinished: a SIGINT stopped the sweep)."""
    check_sweep(config)
    path = experiment_dir(config)
    restoring = tune.Tuner.can_restore(path)
    if restoring:
        _check_same_config(config, path)
    elif resume:
        raise UsageError(f"--resume: there is no sweep to resume in {path}")
    elif Path(path).exists() and any(Path(path).iterdir()):
        raise UsageError(
            f"{path} exists but holds no sweep Tune can resume; choose another name "
            "(--set name=...) or remove the directory"
        )
    ensure_ray(address)
    _check_state_api()

    searches_dir = join(path, SEARCHES_DIR)
    trainable = tune.with_resources(
        tune.with_parameters(run_trial, base=config.search.model_dump(mode="json"), searches_dir=searches_dir),
        {"cpu": DRIVER_CPU},
    )
    if restoring:
        log.info("resuming the sweep in %s", path)
        tuner = tune.Tuner.restore(
            path, trainable, resume_unfinished=True, resume_errored=False, restart_errored=False
        )
    else:
        concurrency = max_concurrent_trials(config, ray.cluster_resources())
        write_json(join(path, CONFIG_FILE), config.model_dump(mode="json"))
        tuner = _new_tuner(config, path, trainable, searches_dir, concurrency)
    tuner.fit()

    trials, meta = load_trials(path)
    summary = summarize(trials, meta, path)
    finished = int(trials["status"].isin(FINISHED).sum())
    summary["interrupted"] = finished < config.sweep.num_samples
    if not summary["interrupted"]:
        _close_abandoned_study_trials(path, meta["study_name"])
    return summary


def _close_abandoned_study_trials(path: str, study_name: str) -> None:
    """A driver killed outright (SIGKILL) leaves the Optuna trials it had asked for since
    Tune's last saved state RUNNING; the resumed sweep asks again. Once the sweep is done,
    those leftovers are marked FAIL, so the study's RUNNING trials mean running ones."""
    import optuna

    study = optuna.load_study(study_name=study_name, storage=f"sqlite:///{Path(path, STUDY_FILE)}")
    for trial in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        log.info("Optuna trial %d was abandoned by an interrupted driver: marked FAIL", trial.number)
        study.tell(trial.number, state=optuna.trial.TrialState.FAIL)


def _check_state_api() -> None:
    """Fail fast where a sweep would stall: Ray Train's placement-group cleaner, which frees
    the workers of a trial that ASHA stops, finds its cluster through the state API. On a
    machine running several Ray instances that lookup fails unless the cluster's processes
    see RAY_ADDRESS (or RAY_API_SERVER_ADDRESS), and every later trial then waits forever."""

    @ray.remote(num_cpus=0)
    def probe() -> str | None:
        from ray.util.state import list_nodes

        try:
            list_nodes(limit=1)
        except Exception as exc:  # what the cleaner would hit, reported instead of a stall
            return str(exc).strip().splitlines()[0]
        return None

    problem = ray.get(probe.remote())
    if problem:
        raise RunFailed(
            f"Ray's state API cannot be reached from this cluster's workers ({problem}); Ray "
            "Train could not free the workers of stopped trials. Start the cluster with "
            "RAY_ADDRESS set for its workers (ray.init(runtime_env={'env_vars': ...}))"
        )


def _new_tuner(config: ExperimentConfig, path: str, trainable, searches_dir: str, concurrency: int):
    import optuna
    from ray.tune.schedulers import ASHAScheduler
    from ray.tune.search.optuna import OptunaSearch

    sweep = config.sweep
    metric, mode = sweep.objective.metric, sweep.objective.mode
    Path(path).mkdir(parents=True, exist_ok=True)
    searcher = OptunaSearch(
        study_name=config.name,
        storage=optuna.storages.RDBStorage(f"sqlite:///{Path(path, STUDY_FILE)}"),
        seed=sweep.sampler_seed,
    )
    meta = {
        "metric": metric,
        "mode": mode,
        "knobs": sweep.space.swept,
        "epochs": config.search.epochs,
        "space": config.search.model.space,
        "study_name": config.name,
    }
    return tune.Tuner(
        trainable,
        param_space=tune_space(sweep.space),
        tune_config=tune.TuneConfig(
            metric=metric,  # the one place metric and mode are set: Tune hands them on
            mode=mode,
            search_alg=searcher,
            scheduler=ASHAScheduler(
                time_attr="epoch",
                max_t=config.search.epochs,
                grace_period=sweep.scheduler.grace_period,
                reduction_factor=sweep.scheduler.reduction_factor,
            ),
            num_samples=sweep.num_samples,
            max_concurrent_trials=concurrency,
            trial_dirname_creator=_trial_dirname,
        ),
        run_config=tune.RunConfig(
            name=experiment_name(config),
            storage_path=config.storage_path,
            failure_config=tune.FailureConfig(max_failures=sweep.max_trial_failures),
            callbacks=[SweepRecorder(path, meta, searches_dir)],
        ),
    )


def _check_same_config(config: ExperimentConfig, path: str) -> None:
    """A resumed sweep must run its remaining trials with the settings it started with."""
    saved_file = Path(path, CONFIG_FILE)
    if not saved_file.is_file():
        return
    saved, current = _flatten(json.loads(saved_file.read_text())), _flatten(config.model_dump(mode="json"))
    changed = sorted(k for k in saved.keys() | current.keys()
                     if k != "output_dir" and saved.get(k) != current.get(k))
    if changed:
        diffs = ", ".join(f"{k}: {saved.get(k)!r} -> {current.get(k)!r}" for k in changed[:5])
        raise UsageError(
            f"the sweep in {path} was started with another config ({diffs}); rerun it with "
            "the same settings, or choose another name (--set name=...)"
        )


def _flatten(tree: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat
