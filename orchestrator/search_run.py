"""Driver side of one search: check the input, fit the TorchTrainer, write the run directory."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from orchestrator.cluster import check_storage
from orchestrator.config import ExperimentConfig
from orchestrator.errors import RunFailed, UsageError
from orchestrator.ray_runtime import ensure_ray
from orchestrator.storage import join, write_json, write_jsonl
from search_space import genotype_from_dict
from trainables.checkpoint import STATE_FILE, load_state
from trainables.data import check_data_source
from trainables.errors import InputError, NonFiniteLossError

log = logging.getLogger(__name__)


def run_search_on_ray(config: ExperimentConfig, address: str | None = None) -> dict:
    """Run (or resume) the search named `config.name`; return the summary the CLI prints."""
    check_data_source(config.search.data)  # before Ray starts: bad input costs no compute
    ensure_ray(address)
    check_storage(config)
    from ray.train import TrainingFailedError

    from trainables.ray_search import build_search_trainer

    trainer = build_search_trainer(config.search, config.storage_path, config.name)
    run_dir = join(config.storage_path, config.name)
    try:
        result = trainer.fit()
    except TrainingFailedError as exc:
        _raise_from_worker(exc, run_dir)
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
    if "://" in run_dir:
        return None
    snapshot = Path(run_dir) / "checkpoint_manager_snapshot.json"
    try:
        latest = json.loads(snapshot.read_text()).get("latest_checkpoint_result") or {}
    except (OSError, ValueError):
        return None
    name = latest.get("checkpoint_dir_name")
    return str(Path(run_dir) / name) if name else None
