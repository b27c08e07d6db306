"""Driver side of one search: check the input, fit the TorchTrainer, write the run directory."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from orchestrator.config import ExperimentConfig
from orchestrator.errors import RunFailed, UsageError
from orchestrator.interrupts import Interrupted
from orchestrator.cluster.resources import DEFAULT_WAIT_S
from orchestrator.stages.stage_door import StageDoor
from orchestrator.cluster.storage import join, write_json, write_jsonl
from search_space import genotype_from_dict
from trainables.checkpoint import STATE_FILE, load_state
from trainables.errors import InputError, NonFiniteLossError

log = logging.getLogger(__name__)


def run_search_on_ray(config: ExperimentConfig, address: str | None = None, restart: bool = False,
                      resource_wait: float = DEFAULT_WAIT_S) -> dict:
    """Run (or resume) the search named `config.name`; return the summary the CLI prints
    (with `finished_before` when the run had finished earlier and nothing ran now)."""
    run_dir = join(config.storage_path, config.name)
    door = StageDoor("search", run_dir, config, ((config.search.runtime, "search.runtime"),),
                     (config.search.data,))
    if door.check(address, restart):  # an earlier run of this config: finished, or to resume
        finished = finished_search(config, run_dir)
        if finished is not None:
            return finished
    if not restart:  # --restart moves the run aside: its checkpoints do not matter
        check_resume_checkpoint(run_dir)
    with door.held():
        return _run_locked(config, door, address, restart, resource_wait)


def _run_locked(config: ExperimentConfig, door: StageDoor, address: str | None, restart: bool,
                resource_wait: float) -> dict:
    run_dir = door.path
    try:
        door.start_ray(address, resource_wait)
        door.record(restart)
        from ray.train import TrainingFailedError

        from trainables.ray_search import build_search_trainer

        trainer = build_search_trainer(config.search, config.storage_path, config.name)
        try:
            result = fit_stoppable(trainer)
        except TrainingFailedError as exc:
            _raise_from_worker(exc, run_dir)
    except KeyboardInterrupt:  # SIGINT, or SIGTERM (orchestrator.interrupts)
        raise Interrupted(where_search_stopped(run_dir, config.search.epochs)) from None
    if result.checkpoint is None:
        raise RunFailed(f"the search in {run_dir} ended without a checkpoint")
    with result.checkpoint.as_directory() as directory:
        state = load_state(Path(directory) / STATE_FILE)
    return write_run_outputs(config, run_dir, state["history"], result.checkpoint.path)


def write_run_outputs(config: ExperimentConfig, run_dir: str, history: list[dict], checkpoint: str) -> dict:
    last = history[-1]
    genotype = genotype_from_dict(last["genotype"])
    alphas = last["alphas"]
    write_jsonl(join(run_dir, "epochs.jsonl"), history)
    write_json(join(run_dir, "alphas.json"), alphas)
    write_json(join(run_dir, "genotype.json"), genotype.to_dict())
    metrics = {k: v for k, v in last.items() if k != "alphas"}
    return {
        "run_dir": run_dir,
        "checkpoint": checkpoint,
        "genotype": {"str": str(genotype), "hash": last["genotype_hash"], **genotype.to_dict()},
        "alphas": alphas,
        "metrics": metrics,
    }


def check_resume_checkpoint(run_dir: str) -> None:
    """The checkpoint a rerun would resume from loads (InputError, exit 2, otherwise): a
    truncated or foreign file is refused here, before Ray starts, not by a worker after a
    cluster and a worker group were started for it."""
    checkpoint, _ = latest_checkpoint(run_dir)
    if checkpoint is not None:
        load_state(Path(checkpoint) / STATE_FILE)


def finished_search(config: ExperimentConfig, run_dir: str) -> dict | None:
    """The summary of a search that finished before (its result files are there and its last
    epoch is the config's last), read from disk; None when it has epochs left."""
    if "://" in run_dir:
        return None
    files = {name: Path(run_dir, name) for name in ("epochs.jsonl", "alphas.json", "genotype.json")}
    if not all(f.is_file() for f in files.values()):
        return None
    history = [json.loads(line) for line in files["epochs.jsonl"].read_text().splitlines() if line.strip()]
    if not history or history[-1].get("epoch") != config.search.epochs:
        return None
    last = history[-1]
    genotype = genotype_from_dict(json.loads(files["genotype.json"].read_text()))
    return {
        "run_dir": run_dir,
        "checkpoint": latest_checkpoint_dir(run_dir),
        "genotype": {"str": str(genotype), "hash": last.get("genotype_hash"), **genotype.to_dict()},
        "alphas": json.loads(files["alphas.json"].read_text()),
        "metrics": {k: v for k, v in last.items() if k != "alphas"},
        "finished_before": True,
    }


def fit_stoppable(trainer):
    """`trainer.fit()` that a SIGINT or SIGTERM stops with a KeyboardInterrupt.

    Ray Train's `fit` installs its own SIGINT handler (a graceful abort that ends in
    `sys.exit(0)` once the controller is gone, and stays installed after `fit` returns); it
    is left out, so that both signals reach the caller as a KeyboardInterrupt. The CLI then
    shuts Ray down, which ends the run's controller and workers (the driver owns them); the
    checkpoints Ray registered stay, and the same command resumes from the last one."""
    if hasattr(trainer, "_register_sigint_handler"):
        trainer._register_sigint_handler = lambda controller: None
    return trainer.fit()


def where_search_stopped(run_dir: str, epochs: int) -> str:
    """"in epoch 3 of 4 (epochs 1-2 are in checkpoint DIR)", from Ray Train's snapshot."""
    checkpoint, done = latest_checkpoint(run_dir)
    if checkpoint is None:
        return f"in epoch 1 of {epochs}, before the first checkpoint"
    if done >= epochs:
        return f"after its last epoch, before writing its results (checkpoint {checkpoint})"
    saved = "epoch 1 is" if done == 1 else f"epochs 1-{done} are"
    return f"in epoch {done + 1} of {epochs} ({saved} in checkpoint {checkpoint})"


def _raise_from_worker(exc: Exception, run_dir: str) -> None:
    """Turn Ray's wrapped worker error into ours: bad input -> exit 2, the rest -> exit 1."""
    failures = getattr(exc, "worker_failures", None) or {}
    for failure in failures.values():
        cause = root_cause(failure)
        if isinstance(cause, InputError):
            raise UsageError(str(cause)) from None
        if isinstance(cause, NonFiniteLossError):
            raise RunFailed(str(cause)) from None
    checkpoint = latest_checkpoint_dir(run_dir)
    where = (
        f"the last checkpoint is {checkpoint}; rerun the same command to resume from it"
        if checkpoint
        else "no checkpoint was written"
    )
    first = next(iter(failures.values()), exc)
    raise RunFailed(f"the search failed ({one_line(first)}); {where}") from None


def root_cause(error: BaseException) -> BaseException:
    seen = set()
    while id(error) not in seen:
        seen.add(id(error))
        inner = getattr(error, "cause", None) or error.__cause__
        if inner is None or not isinstance(inner, BaseException):
            break
        error = inner
    return error


def one_line(error: BaseException) -> str:
    text = str(root_cause(error)).strip().splitlines()
    return text[-1] if text else type(error).__name__


def latest_checkpoint_dir(run_dir: str) -> str | None:
    """The checkpoint a rerun resumes from: the latest one Ray Train registered in its
    snapshot (a checkpoint folder whose report never completed is not it)."""
    return latest_checkpoint(run_dir)[0]


def latest_checkpoint(run_dir: str) -> tuple[str | None, int]:
    """(directory, epoch) of the latest checkpoint in Ray Train's snapshot; (None, 0)."""
    if "://" in run_dir:
        return None, 0
    snapshot = Path(run_dir) / "checkpoint_manager_snapshot.json"
    try:
        latest = json.loads(snapshot.read_text()).get("latest_checkpoint_result") or {}
    except (OSError, ValueError):
        return None, 0
    name = latest.get("checkpoint_dir_name")
    epoch = (latest.get("metrics") or {}).get("epoch", 0)
    return (str(Path(run_dir) / name), int(epoch)) if name else (None, 0)
