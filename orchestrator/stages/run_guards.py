"""Checks that keep a Tune stage resumable and runnable, made before any trial starts:
a resumed stage runs with the config it started with, and the cluster can free the workers
of stopped trials. Also the clean-up of an Optuna study after a killed driver."""

from __future__ import annotations

import json
import logging

from orchestrator.errors import RunFailed, UsageError

log = logging.getLogger(__name__)


def check_same_config(saved_file: str, current: dict, what: str) -> None:
    """A resumed stage must run its remaining trials with the settings it started with:
    UsageError naming the fields that differ (output_dir may move, and the cluster section
    may change with the cluster it resumes on). `saved_file`: a path or a URI."""
    from orchestrator.cluster.storage import is_file, read_bytes

    if not is_file(str(saved_file)):
        return
    saved, now = flatten(json.loads(read_bytes(str(saved_file)))), flatten(current)
    changed = sorted(k for k in saved.keys() | now.keys()
                     if k != "output_dir" and not k.startswith("cluster.") and saved.get(k) != now.get(k))
    if changed:
        diffs = ", ".join(f"{k}: {saved.get(k)!r} -> {now.get(k)!r}" for k in changed[:5])
        raise UsageError(
            f"the {what} in {str(saved_file).rsplit('/', 1)[0]} was started with another config ({diffs}); "
            "rerun it with the same settings, or choose another name (--set name=...)"
        )


def flatten(tree: dict, prefix: str = "") -> dict:
    """{"a": {"b": 1}} -> {"a.b": 1}."""
    flat = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def check_state_api() -> None:
    """Fail fast where a stage would stall: Ray Train's placement-group cleaner, which frees
    the workers of a trial that ASHA stops, finds its cluster through the state API. On a
    machine running several Ray instances that lookup fails unless the cluster's processes
    see RAY_ADDRESS (or RAY_API_SERVER_ADDRESS), and every later trial then waits forever."""
    import ray

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


def close_abandoned_study_trials(storage: str, study_name: str) -> None:
    """A driver killed outright (SIGKILL) leaves the Optuna trials it had asked for since
    Tune's last saved state RUNNING; the resumed sweep asks again. Once the sweep is done,
    those leftovers are marked FAIL, so the study's RUNNING trials mean running ones."""
    import optuna

    study = optuna.load_study(study_name=study_name, storage=storage)
    for trial in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        log.info("Optuna trial %d was abandoned by an interrupted driver: marked FAIL", trial.number)
        study.tell(trial.number, state=optuna.trial.TrialState.FAIL)
