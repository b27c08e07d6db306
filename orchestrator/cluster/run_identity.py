"""A run directory and the config it ran with stay one.

Every run directory (a search's `<name>/`, a sweep's `<name>-sweep/`, a retrain's
`<name>-retrain/`, a pipeline's `<name>-pipeline/`) keeps the resolved config it was started
with in `config.json`, written atomically before anything else runs. The same command run
again continues that run only with the same settings: a config that differs in a field the
run depends on is refused before Ray starts, with one line naming the fields and the two ways
on (another `name`, or `--restart`). `--restart` moves the old run aside (never deletes it),
and only a directory that is recognisably such a run.

Which fields count: the sections the run reads (`RUN_SECTIONS`), minus settings that do not
change what is computed (`MAY_CHANGE`: where the data and the results live, the workers'
resources, restart budgets) -- the same rule the retrain's checkpoints apply on resume.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

from orchestrator.errors import UsageError
from orchestrator.stages.run_guards import flatten
from orchestrator.cluster.storage import join, write_json

log = logging.getLogger(__name__)

CONFIG_FILE = "config.json"

#: run kind -> the top-level config sections it depends on
RUN_SECTIONS: dict[str, tuple[str, ...]] = {
    "search": ("search",),
    "sweep": ("search", "sweep", "proxy"),
    "retrain": ("retrain",),
    "pipeline": ("search", "sweep", "proxy", "retrain", "pipeline"),
}

#: dotted-field suffixes that may differ between a run and its continuation
MAY_CHANGE = (
    ".runtime.", ".data.root", ".data.loader_workers", ".data.pin_memory", ".keep_checkpoints",
    "search.benchmark",  # where NAS-Bench-201 lives: it is read, it changes no computation
    "sweep.max_concurrent_trials", "sweep.max_trial_failures", "retrain.seed",
)

#: what marks a directory as a run of each kind when it has no config.json (written by an
#: older alphadarts): Ray Train's snapshot, Tune's experiment state, the retrain table
RUN_MARKERS: dict[str, tuple[str, ...]] = {
    "search": ("checkpoint_manager_snapshot.json", "epochs.jsonl"),
    "sweep": ("tuner.pkl", "optuna.db", "trials.parquet"),
    "retrain": ("tuner.pkl", "retrain.parquet"),
    "pipeline": ("selection.json", "report.html"),
}


def add_restart_argument(parser) -> None:
    parser.add_argument(
        "--restart", action="store_true",
        help="start this name over: the previous run's directory is moved aside "
             "(<dir>.replaced-<time>), not deleted",
    )


def relevant_fields(config: dict, kind: str) -> dict:
    """The flattened fields of `config` (a model_dump) a run of `kind` depends on."""
    sections = {k: config.get(k) for k in RUN_SECTIONS[kind]}
    flat = flatten({k: v if v is not None else "null" for k, v in sections.items()})
    return {k: v for k, v in flat.items() if not _may_change(k)}


def _may_change(field: str) -> bool:
    dotted = f".{field}."
    return any(f".{pattern.strip('.')}." in dotted for pattern in MAY_CHANGE)


def differing_fields(saved: dict, current: dict, kind: str) -> list[str]:
    old, new = relevant_fields(saved, kind), relevant_fields(current, kind)
    return sorted(k for k in old.keys() | new.keys() if old.get(k, "<absent>") != new.get(k, "<absent>"))


def check_same_run(run_dir: str, current: dict, kind: str) -> bool:
    """UsageError when `run_dir` was started with a config that differs from `current` (a
    model_dump) in a field a `kind` run depends on. True when the directory holds a saved
    config (it is a run), False when there is none to compare with."""
    saved = _saved_config(run_dir)
    if saved is None:
        return False
    changed = differing_fields(saved, current, kind)
    if changed:
        old, new = relevant_fields(saved, kind), relevant_fields(current, kind)
        shown = ", ".join(f"{k}: {old.get(k, '<absent>')!r} -> {new.get(k, '<absent>')!r}"
                          for k in changed[:4])
        more = f" and {len(changed) - 4} more" if len(changed) > 4 else ""
        raise UsageError(
            f"the {kind} in {run_dir} was started with another config ({shown}{more}); rerun it "
            f"with the same settings, give it a new name (--set name=...), or start it over "
            f"with --restart (the old run is moved aside, not deleted)"
        )
    return True


def check_run_dir(run_dir: str, config: dict, kind: str, restart: bool = False) -> bool:
    """Before a run of `kind` in `run_dir`, changing nothing: with `restart`, that an earlier
    run there may be moved aside; else that it ran with the same settings. True when an
    earlier run is to be continued."""
    if restart:
        _check_movable(run_dir, kind)
        return False
    return check_same_run(run_dir, config, kind) or _has_content(run_dir)


def record_run_dir(run_dir: str, config: dict, kind: str, restart: bool = False) -> None:
    """Once every check passed, just before the run starts: with `restart`, move the earlier
    run aside; then record `config` as the run's own (unless it already holds one)."""
    if restart:
        move_aside(run_dir, kind)
    if not _is_local(run_dir) or _saved_config(run_dir) is not None:
        return  # object stores: not recorded, not compared (listed in the README)
    if _has_content(run_dir):
        log.warning("%s holds no %s (an older alphadarts wrote it): its settings could not be "
                    "compared with this config", run_dir, CONFIG_FILE)
    write_json(join(run_dir, CONFIG_FILE), config)


def _has_content(run_dir: str) -> bool:
    return _is_local(run_dir) and Path(run_dir).is_dir() and any(Path(run_dir).iterdir())


def _check_movable(run_dir: str, kind: str) -> None:
    if not _is_local(run_dir):
        raise UsageError(f"--restart: {run_dir} is not on a local or shared file system; "
                         "remove the old run there yourself, or choose a new name")
    path = Path(run_dir)
    if not path.exists():
        return
    markers = (CONFIG_FILE, *RUN_MARKERS[kind])
    if not path.is_dir() or not any((path / m).exists() for m in markers):
        raise UsageError(
            f"--restart: {run_dir} is not a {kind} run (none of {', '.join(markers)}); nothing "
            "was moved: remove or rename it yourself, or choose a new name (--set name=...)"
        )


def move_aside(run_dir: str, kind: str) -> str | None:
    """Rename `run_dir` to `<run_dir>.replaced-<time>` if it is a run of `kind`; UsageError
    if it is something else (nothing is moved then). Returns the new name, None if absent."""
    _check_movable(run_dir, kind)
    path = Path(run_dir)
    if not path.exists():
        return None
    target = path.with_name(f"{path.name}.replaced-{time.strftime('%Y%m%d-%H%M%S')}")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.replaced-{time.strftime('%Y%m%d-%H%M%S')}-{n}")
    path.rename(target)
    print(f"--restart: moved the previous {kind} run to {target}")
    return str(target)


def _saved_config(run_dir: str) -> dict | None:
    if not _is_local(run_dir):
        return None  # object stores: not compared (a sweep cannot live there anyway)
    file = Path(run_dir, CONFIG_FILE)
    if not file.is_file():
        return None
    try:
        saved = json.loads(file.read_text())
    except (OSError, ValueError) as exc:
        raise UsageError(f"{file} cannot be read as the run's config ({exc}); restore it, or "
                         "start the run over with --restart") from None
    if not isinstance(saved, dict):
        raise UsageError(f"{file} does not hold a config; restore it, or start over with --restart")
    return saved


def _is_local(path: str) -> bool:
    return "://" not in path
