"""The sweep: Ray Tune runs one supernet search (a Ray Train run) per trial, Optuna's TPE
picks each trial's knobs, and ASHA stops weak trials early on `epoch`.

Layout of the experiment directory `<output_dir>/<name>-sweep/`:
  tuner.pkl, experiment_state-*.json, searcher/scheduler state   Tune's own, for --resume
  trial_<id>/          Tune's per-trial files: result.json, progress.csv, TensorBoard events
  searches/<id>/       the trial's Train run (checkpoints); a resumed trial continues there
  optuna.db            the Optuna study (SQLite), one finished trial per finished Tune trial;
                       with an s3:// or gs:// output_dir the study lives on the local disk of
                       the machine that runs this driver (the head, for a Ray job: see
                       `study_file`) and a copy is put here when the sweep ends
  config.json          the config the sweep started with (a resume must use the same one)
  trials.parquet, epochs.parquet   written by `SweepRecorder` as results come in
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import warnings
from pathlib import Path

import ray
from ray import tune

from orchestrator.config import ExperimentConfig
from orchestrator.stages.phase_marks import callbacks as phase_callbacks
from orchestrator.stages.tracking import tracking_callbacks
from orchestrator.stages.tune_output import ScalarTBXLoggerCallback, progress_reporting
from orchestrator.errors import UsageError
from orchestrator.stages.in_trial import runs_in_trial
from orchestrator.interrupts import Interrupted
from orchestrator.stages.recorder import SweepRecorder
from orchestrator.tables.results import FINISHED, load_trials, summarize
from orchestrator.cluster.resources import DEFAULT_WAIT_S
from orchestrator.stages.run_guards import check_state_api, close_abandoned_study_trials
from orchestrator.cluster.run_identity import move_aside
from orchestrator.stages.stage_door import StageDoor
from orchestrator.cluster.storage import (
    is_dir,
    is_file,
    is_uri,
    join,
    list_files,
    read_bytes,
    write_bytes,
    write_json,
)
from orchestrator.sweep_config import (
    KNOB_FIELDS,
    TRIAL_INDEX,
    FloatRange,
    IntRange,
    SweepSpace,
    apply_knobs,
    encode_phases,
    trial_knobs,
)
from orchestrator.stages.trial_exit import exits_on_stop
from orchestrator.stages import trial_runner as runner
from trainables.atomic_files import atomic_write_bytes
from trainables.config import SearchConfig
from trainables.metrics import OBJECTIVE_GOALS
from trainables.phase_log import mark
from trainables.proxy_objective import ProxyObjective

log = logging.getLogger(__name__)

SEARCHES_DIR = "searches"
STUDY_FILE = "optuna.db"
CONFIG_FILE = "config.json"


def experiment_dir(config: ExperimentConfig) -> str:
    return join(config.storage_path, experiment_name(config))


def experiment_name(config: ExperimentConfig) -> str:
    return f"{config.name}-sweep"


def sweep_door(config: ExperimentConfig) -> StageDoor:
    """What the sweep checks before Ray starts and holds while it runs (orchestrator.stages.stage_door)."""
    return StageDoor("sweep", experiment_dir(config), config, ((config.search.runtime, "search.runtime"),),
                     (config.search.data,), functools.partial(check_sweep, config), runner.DRIVER_CPU)


def check_sweep(config: ExperimentConfig, address: str | None = None) -> None:
    """Rules that tie the sweep to the search, checked before Ray starts."""
    grace, epochs = config.sweep.scheduler.grace_period, config.search.epochs
    if grace > epochs:
        raise UsageError(
            f"sweep.scheduler.grace_period={grace} must not exceed search.epochs={epochs}"
        )
    metric = config.sweep.objective.metric
    if metric.startswith("bench_") and (config.search.model.space != "nb201" or config.search.benchmark is None):
        raise UsageError(
            f"sweep.objective.metric={metric!r} ranks by NAS-Bench-201's validation accuracy: it "
            f"needs search.model.space=nb201 (is {config.search.model.space!r}) and search.benchmark "
            "set to the benchmark's directory (docs/nas-bench-201.md)"
        )
    if config.sweep.objective.needs_proxy and config.proxy is None:
        raise UsageError(
            f"sweep.objective.metric={config.sweep.objective.metric!r} needs a proxy section (how "
            "each trial's genotype is trained and scored; every preset has one: see "
            "orchestrator/presets/quickstart.yaml)"
        )


# --- knobs ---------------------------------------------------------------------------------

def tune_space(space: SweepSpace) -> dict:
    """The knobs the searcher proposes, as Tune domains; OptunaSearch turns them into Optuna
    distributions. The seed is not among them: `Repeater` runs every setting with each seed."""
    domains = {}
    for knob in space.searched:
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


def baseline_setting(space: SweepSpace, search: SearchConfig) -> dict | None:
    """Plain DARTS, the setting every sweep over `mask_ratio` evaluates first (when its range
    holds 0): mask ratio 0 and the other knobs at the search section's values (or, where the
    knob's range does not hold that value, its first choice or low end). Without it a sweep
    could end with no baseline to compare MIM against."""
    ratios = space.mask_ratio
    if ratios is None or (0.0 not in ratios if isinstance(ratios, tuple) else ratios.low != 0.0):
        return None
    point = {"mask_ratio": 0.0}
    for knob in space.searched:
        if knob == "mask_ratio":
            continue
        domain, value = getattr(space, knob), _search_value(search, knob)
        if isinstance(domain, (FloatRange, IntRange)):
            point[knob] = value if domain.low <= value <= domain.high else domain.low
        else:
            point[knob] = value if value in domain else domain[0]
        if knob == "phases":
            point[knob] = encode_phases(point[knob])
    return point


def _search_value(search: SearchConfig, knob: str):
    section, field = KNOB_FIELDS[knob] if len(KNOB_FIELDS[knob]) == 2 else (None, KNOB_FIELDS[knob][0])
    return getattr(search.mim if section == "mim" else search, field)


# --- one trial -----------------------------------------------------------------------------

@exits_on_stop
def run_trial(config: dict, *, base: SearchConfig, seeds: list[int] | None,
              objective: ProxyObjective | None, searches_dir: str, in_trial: bool) -> None:
    """Tune function trainable: one supernet search with this trial's knobs, in this trial's
    process (one worker) or on Ray Train (several).

    `base` is the validated search config itself; the knobs (and the seed of this trial's
    replicate) are applied, and the result validated, here, once, and the loop receives that
    object. The run directory is named after the trial id, so a restarted trial (a resumed
    sweep, a retried failure) finds it and continues from the last checkpoint. With a proxy
    `objective` the derived genotype is scored at the objective's epochs (`proxy_acc`)."""
    trial_id = tune.get_context().get_trial_id()
    mark("trial_start", run=trial_id)
    search = apply_knobs(base, trial_knobs(config, seeds))
    if in_trial:  # decided by the driver, which also sized the trial's resources for it
        from orchestrator.stages.in_trial import search_in_trial

        search_in_trial(search, objective, join(searches_dir, trial_id))
    else:
        from ray.tune.integration.ray_train import TuneReportCallback

        from trainables.ray_search import build_search_trainer

        runner.fit_in_trial(build_search_trainer(search, searches_dir, trial_id, callbacks=[TuneReportCallback()],
                                          objective=objective))
    mark("trial_end", run=trial_id)


def proxy_objective(config: ExperimentConfig) -> ProxyObjective | None:
    """How the sweep's trials score their genotypes: at ASHA's rungs and the last epoch."""
    if not config.sweep.objective.needs_proxy:
        return None
    return ProxyObjective(config.proxy, config.sweep.scheduler.rung_epochs(config.search.epochs))


def max_concurrent_trials(config: ExperimentConfig, cluster: dict[str, float]) -> int:
    """`sweep.max_concurrent_trials`, else as many search trials as the cluster holds now."""
    return runner.trials_that_fit(config.search.runtime, sweep_runs_in_trial(config), config.cluster.driver_resource,
                                  cluster, config.sweep.num_samples, config.sweep.max_concurrent_trials,
                                  "search.runtime")


# --- the sweep -----------------------------------------------------------------------------

def run_sweep(config: ExperimentConfig, address: str | None = None, resume: bool = False,
              restart: bool = False, resource_wait: float = DEFAULT_WAIT_S, checked: bool = False) -> dict:
    """Run, or continue, the sweep named `config.name` (`restart`: start it over, the old
    one moved aside); return `results.summarize`'s dict plus `interrupted` (trials left
    unfinished: a SIGINT stopped the sweep). `checked`: the pipeline has passed the door."""
    if resume and restart:
        raise UsageError("--resume and --restart contradict each other: give one")
    door = sweep_door(config)
    if not checked:
        door.check(address, restart)
    with door.held():
        return _run_sweep_locked(config, door, address, resume, restart, resource_wait)


def sweep_runs_in_trial(config: ExperimentConfig) -> bool:
    """Whether the sweep's trials run their search in the Tune trial (orchestrator.stages.in_trial)."""
    return runs_in_trial(config.search.runtime, config.storage_path, config.cluster.driver_resource)


def _run_sweep_locked(config: ExperimentConfig, door: StageDoor, address: str | None, resume: bool,
                      restart: bool, resource_wait: float) -> dict:
    path = door.path
    restoring = not restart and tune.Tuner.can_restore(path)
    if restart or restoring:
        pass
    elif resume:
        raise UsageError(f"--resume: there is no sweep to resume in {path}")
    elif is_dir(path) and list_files(path):
        raise UsageError(
            f"{path} exists but holds no sweep Tune can resume; choose another name "
            "(--set name=...) or remove the directory"
        )
    study = study_file(config)
    if not restoring and study.is_file() and not restart:  # a URI's (a local path's is inside the directory)
        raise UsageError(f"{path} holds no sweep, but its Optuna study {study} exists (a sweep "
                         "whose directory was removed?); remove that file or choose another name")
    if restart:
        move_aside(path, "sweep")
    door.start_ray(address, resource_wait)
    check_state_api()
    if restoring:
        fetch_study_copy(path, study)
    door.announce("start")

    searches_dir = join(path, SEARCHES_DIR)
    trainable = tune.with_resources(
        tune.with_parameters(
            run_trial, base=config.sweep_search, seeds=config.sweep.space.seeds,
            objective=proxy_objective(config), searches_dir=searches_dir,
            in_trial=sweep_runs_in_trial(config),
        ),
        runner.trainable_resources(config.search.runtime, sweep_runs_in_trial(config), config.cluster.driver_resource),
    )
    if restoring:
        log.info("resuming the sweep in %s", path)
        progress_reporting(*progress_columns(config))  # the saved Tuner holds the reporter
        tuner = tune.Tuner.restore(
            path, trainable, resume_unfinished=True, resume_errored=False, restart_errored=False
        )
    else:
        concurrency = max_concurrent_trials(config, ray.cluster_resources())
        write_json(join(path, CONFIG_FILE), config.model_dump(mode="json"))
        tuner = _new_tuner(config, path, trainable, searches_dir, concurrency)
    mark("tuner_fit")
    try:
        tuner.fit()  # a SIGINT (or SIGTERM, orchestrator.interrupts) ends it gracefully
    except KeyboardInterrupt:  # a second signal, while Tune was saving its state
        raise Interrupted(where_sweep_stopped(path, config.sweep.num_samples), ("--resume",)) from None
    door.announce("end")

    trials, meta = load_trials(path)
    summary = summarize(trials, meta, path)
    finished = int(trials["status"].isin(FINISHED).sum())
    summary["interrupted"] = finished < config.sweep.num_samples
    if not summary["interrupted"]:
        close_abandoned_study_trials(_study_url(study), meta["study_name"])
    put_study_copy(study, path)
    return summary


def where_sweep_stopped(path: str, num_samples: int) -> str:
    """"with 2 of 6 trials finished (unfinished ones resume from their last epoch's
    checkpoint)", from the sweep's trial table."""
    try:
        trials, _ = load_trials(path)
        finished = int(trials["status"].isin(FINISHED).sum())
    except UsageError:  # no table yet: no trial reported
        finished = 0
    return (f"with {finished} of {num_samples} trials finished in {path} (unfinished trials "
            "resume from their last checkpoint)")


def study_file(config: ExperimentConfig) -> Path:
    """Where the sweep's Optuna study (SQLite) lives: next to the results for a local or NFS
    output_dir; for s3:// or gs:// (where SQLite cannot write) on the local disk of the
    machine running this driver, under $ALPHADARTS_STUDY_DIR (default ~/.alphadarts/studies),
    in a folder named after the experiment and a hash of its URI (two buckets, two studies).
    On a cluster that machine is the head: `ray job submit` runs the driver there, and so
    does `--address ray://` (orchestrator.cluster.placement). Optuna's journal storage would also need
    a file system with appends and locks, which object stores are not."""
    path = experiment_dir(config)
    if not is_uri(path):
        return Path(path, STUDY_FILE)
    root = Path(os.environ.get("ALPHADARTS_STUDY_DIR", "~/.alphadarts/studies")).expanduser()
    digest = hashlib.sha256(path.encode()).hexdigest()[:12]
    return root / f"{experiment_name(config)}-{digest}" / STUDY_FILE


def put_study_copy(study: Path, path: str) -> None:
    """A study kept off the experiment directory is copied into it (`results` and `dashboard`
    read it there), once the sweep's driver has stopped writing it."""
    if is_uri(path) and study.is_file():
        write_bytes(join(path, STUDY_FILE), study.read_bytes())


def fetch_study_copy(path: str, study: Path) -> None:
    """A sweep resumed on a new head (the old one was taken down) starts from the study's
    copy in the experiment directory; the driver's own file, where it exists, is newer."""
    remote = join(path, STUDY_FILE)
    if is_uri(path) and not study.is_file() and is_file(remote):
        study.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(study, read_bytes(remote))
        log.info("resuming with the Optuna study copied from %s", remote)


def _study_url(study: Path) -> str:
    return f"sqlite:///{study}"


def progress_columns(config: ExperimentConfig) -> tuple[list[str], dict[str, str]]:
    """The status table's metric and parameter columns: the epoch, the objective (and what
    ASHA prunes on), the supernet's α-split accuracy, the collapse signals and the MIM loss;
    the searched knobs and, where seeds are swept, the replicate's index into them."""
    objective = config.sweep.objective
    metrics = ["epoch", objective.metric, objective.pruning_metric, "alpha_acc", "param_free_ops",
               "alpha_entropy", "mim_loss"]
    knobs = {knob: knob for knob in config.sweep.space.searched}
    if config.sweep.space.seeds is not None:
        knobs[TRIAL_INDEX] = "seed #"
    return metrics, knobs


def asha_scheduler(config: ExperimentConfig):
    """ASHA on `epoch`, comparing the objective at its rungs (the proxy objective is scored
    at exactly those epochs: `proxy_objective`)."""
    from ray.tune.schedulers import ASHAScheduler

    sweep = config.sweep
    pruning = sweep.objective.pruning_metric
    return ASHAScheduler(
        time_attr="epoch",
        metric=pruning,
        mode=OBJECTIVE_GOALS[pruning],
        max_t=config.search.epochs,
        grace_period=sweep.scheduler.grace_period,
        reduction_factor=sweep.scheduler.reduction_factor,
    )


def _new_tuner(config: ExperimentConfig, path: str, trainable, searches_dir: str, concurrency: int):
    sweep = config.sweep
    metric, mode = sweep.objective.metric, sweep.objective.mode
    seeds = sweep.space.seeds
    meta = {
        "metric": metric,
        "mode": mode,
        "knobs": sweep.space.swept,
        "seeds": seeds,
        "epochs": config.search.epochs,
        "space": config.search.model.space,
        "study_name": config.name,
    }
    if sweep.space.searched:
        search_alg, param_space, num_samples = _searcher(config), tune_space(sweep.space), sweep.num_samples
    else:  # only the seed is swept: one setting, a grid over its replicates
        search_alg, param_space, num_samples = None, {TRIAL_INDEX: tune.grid_search(list(range(len(seeds))))}, 1
    return tune.Tuner(
        trainable,
        param_space=param_space,
        tune_config=tune.TuneConfig(
            # metric and mode are set on the searcher (the objective) and on ASHA (what it
            # prunes on), nowhere else (docs/ray-notes.md)
            search_alg=search_alg,
            scheduler=asha_scheduler(config),
            num_samples=num_samples,
            max_concurrent_trials=concurrency,
            # a finished trial's process runs the next one: no new process importing torch
            reuse_actors=True,
            trial_dirname_creator=runner.trial_dirname,
        ),
        run_config=tune.RunConfig(
            name=experiment_name(config),
            storage_path=config.storage_path,
            failure_config=tune.FailureConfig(max_failures=sweep.max_trial_failures),
            callbacks=[SweepRecorder(path, meta, searches_dir),
                       ScalarTBXLoggerCallback(hparams=functools.partial(trial_knobs, seeds=seeds)),
                       *tracking_callbacks(config.tracking, experiment_name(config),
                                           functools.partial(trial_knobs, seeds=seeds)),
                       *phase_callbacks()],
            **progress_reporting(*progress_columns(config), metric=metric, mode=mode),
        ),
    )


def _searcher(config: ExperimentConfig):
    """Optuna's TPE over the knobs, plain DARTS first where the mask ratio is swept, each
    proposed setting run once per seed (`Repeater`; Optuna learns from the mean over the
    seeds, so a seed is a replicate, not a knob to tune)."""
    import optuna
    from ray.tune.search import Repeater
    from ray.tune.search.optuna import OptunaSearch

    sweep = config.sweep
    study = study_file(config)
    study.parent.mkdir(parents=True, exist_ok=True)
    baseline = baseline_setting(sweep.space, config.search)
    optuna_search = OptunaSearch(
        study_name=config.name,
        storage=optuna.storages.RDBStorage(_study_url(study)),
        seed=sweep.sampler_seed,
        metric=sweep.objective.metric,
        mode=sweep.objective.mode,
        points_to_evaluate=[baseline] if baseline else None,
    )
    seeds = sweep.space.seeds
    if seeds is None:
        return optuna_search
    # a setting whose every seed failed has no mean: Repeater tells Optuna NaN (a failed
    # trial) after numpy's warning, which says nothing a user can act on
    warnings.filterwarnings("ignore", "Mean of empty slice", RuntimeWarning, "ray.tune.search.repeater")
    return Repeater(optuna_search, repeat=len(seeds), set_index=True)
