"""Which experiment a directory belongs to: a sweep's, a retrain's or a pipeline's directory,
given to any reading command, stands for the whole experiment.

Why: one experiment writes three sibling directories (`<name>-sweep`, `<name>-retrain`,
`<name>-pipeline`) and each command prints one of them; a user pastes whichever they saw
last and expects to see everything that belongs to it. So the links are recorded where they
are made, in `experiment.json`: a pipeline names its sweep and its retrain, a retrain names
the sweeps its genotypes came from. A sweep is written before anything is made from it and
records nothing: its retrain and pipeline are found among its siblings by their records.
Directories written before these records existed are placed by their files and names
(`<name>-pipeline` beside `<name>-sweep` and `<name>-retrain`). A recorded directory is
looked for beside the recording one first, under its own name, so that a tree that was moved
or copied (from a cluster to a laptop) names its own parts.

Torch-, Ray- and pandas-free: commands resolve a directory before they import anything heavy.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from orchestrator.errors import UsageError
from orchestrator.cluster.storage import is_dir, is_file, is_uri, join, read_bytes, write_json

RECORD_FILE = "experiment.json"
KINDS = ("sweep", "retrain", "pipeline")
#: the files that mark each kind in a directory without a record (what every version wrote)
MARKERS = {"sweep": ("trials.parquet", "optuna.db"), "retrain": ("retrain.parquet",),
           "pipeline": ("selection.json",)}
#: a search's run directory (`alphadarts search`): not an experiment, but a genotype source
SEARCH_MARKERS = ("genotype.json", "epochs.jsonl", "checkpoint_manager_snapshot.json")
MARKED = (RECORD_FILE, *(m for kind in KINDS for m in MARKERS[kind]))
WHAT = "a sweep's, a retrain's or a pipeline's directory (runs/NAME-sweep, runs/NAME-retrain, runs/NAME-pipeline)"


@dataclass(frozen=True)
class Experiment:
    """A directory as asked and the experiment's parts that exist (None: not made yet, or
    not found). Paths beside the asked one are written relative to it as the user wrote it."""

    asked: str
    kind: str
    sweep: str | None = None
    retrain: str | None = None
    pipeline: str | None = None

    def short(self) -> str:
        return f"the {self.kind} {self.asked}"

    def describe(self) -> str:
        """"the pipeline runs/q-pipeline (sweep runs/q-sweep, retrain runs/q-retrain)"."""
        parts = [f"{k} {getattr(self, k)}" for k in KINDS if k != self.kind and getattr(self, k)]
        return f"the {self.kind} {self.asked}" + (f" ({', '.join(parts)})" if parts else "")


def find_experiment(directory: str, what: str = "EXPERIMENT_DIR", allowed: str | None = None) -> Experiment:
    """The experiment `directory` belongs to; UsageError naming `what`, the value and what
    is allowed (`allowed`, default: the three kinds) when it is no experiment's directory."""
    directory = str(directory)
    allowed = allowed or f"give {WHAT}"
    if not is_dir(directory):
        raise UsageError(f"{what} {directory!r} does not exist; {allowed}")
    kind = directory_kind(directory)
    if kind is None:
        hint = (f"; it is a search's run directory (its genotype: {join(directory, 'genotype.json')})"
                if any(is_file(join(directory, m)) for m in SEARCH_MARKERS) else "")
        raise UsageError(f"{what} {directory!r} is not an experiment's directory (it holds none of "
                         f"{', '.join(MARKED)}){hint}; {allowed}")
    record = read_record(directory)
    if kind == "pipeline":
        sweep = _linked(directory, record.get("sweep"), "-sweep")
        retrain = _linked(directory, record.get("retrain"), "-retrain")
        return Experiment(directory, kind, sweep=sweep, retrain=retrain, pipeline=directory)
    if kind == "retrain":
        sweep = next((s for s in (_linked(directory, p) for p in record.get("sweeps", [])) if s), None)
        if sweep is None and not record:  # written before records: its sibling by name
            sweep = _legacy_sweep_of_retrain(directory)
        pipeline = _sibling_pipeline(directory, "retrain")
        return Experiment(directory, kind, sweep=sweep, retrain=directory, pipeline=pipeline)
    # a sweep: its retrain is the one in its own directory, the one its pipeline made, or one
    # made from it with `retrain --genotype SWEEP:...`
    pipeline = _sibling_pipeline(directory, "sweep")
    retrain = directory if any(is_file(join(directory, m)) for m in MARKERS["retrain"]) else None
    if retrain is None and pipeline is not None:
        retrain = find_experiment(pipeline).retrain
    if retrain is None:
        retrain = _sibling_retrain(directory)
    return Experiment(directory, kind, sweep=directory, retrain=retrain, pipeline=pipeline)


def directory_kind(directory: str) -> str | None:
    """"sweep", "retrain", "pipeline" or None: by the record, else by the files, else by
    the name (a run that has not written its tables yet)."""
    kind = read_record(directory).get("kind")
    if kind in KINDS:
        return kind
    for kind in KINDS:
        if any(is_file(join(directory, m)) for m in MARKERS[kind]):
            return kind
    name = _name(directory)
    return next((kind for kind in KINDS if name.endswith(f"-{kind}") and len(name) > len(kind) + 1), None)


# --- records -------------------------------------------------------------------------------

def read_record(directory: str) -> dict:
    """The directory's experiment.json, {} when it has none (or one that is not ours)."""
    path = join(str(directory), RECORD_FILE)
    if not is_file(path):
        return {}
    try:
        record = json.loads(read_bytes(path))
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def record_pipeline(pipeline_dir: str, sweep_dir: str, retrain_dir: str) -> None:
    """A pipeline names its two stages' directories (before they run: the dashboard on the
    pipeline's directory shows them while they do)."""
    write_json(join(pipeline_dir, RECORD_FILE),
               {"kind": "pipeline", "sweep": _absolute(sweep_dir), "retrain": _absolute(retrain_dir)})


def record_retrain_sources(retrain_dir: str, sweep_dirs: list[str]) -> None:
    """A retrain names the sweeps its genotypes came from (added to what it named before:
    one retrain directory can hold the genotypes of several `retrain` commands)."""
    record = read_record(retrain_dir)
    sweeps = list(record.get("sweeps", [])) if record.get("kind") == "retrain" else []
    for sweep in map(_absolute, sweep_dirs):
        if sweep not in sweeps:
            sweeps.append(sweep)
    write_json(join(retrain_dir, RECORD_FILE), {"kind": "retrain", "sweeps": sweeps})


# --- finding the other parts ---------------------------------------------------------------

def _absolute(path: str) -> str:
    return path.rstrip("/") if is_uri(path) else os.path.abspath(os.path.expanduser(path))


def _name(path: str) -> str:
    return str(path).rstrip("/").rsplit("/", 1)[-1]


def _beside(directory: str, name: str) -> str:
    """`name` in the folder that holds `directory`, written as `directory` is written."""
    if is_uri(directory):
        return directory.rstrip("/").rsplit("/", 1)[0] + "/" + name
    return str(Path(directory).parent / name)


def _stem(directory: str, suffix: str) -> str | None:
    name = _name(directory)
    return name[: -len(suffix)] if name.endswith(suffix) and len(name) > len(suffix) else None


def _same(a: str, b: str) -> bool:
    if is_uri(a) or is_uri(b):
        return a.rstrip("/") == b.rstrip("/")
    return os.path.realpath(os.path.expanduser(a)) == os.path.realpath(os.path.expanduser(b))


def _linked(directory: str, recorded: str | None, legacy_suffix: str | None = None) -> str | None:
    """The directory a record of `directory` names, where it is now: beside `directory`
    under its recorded name (written as `directory` is written; a moved or copied tree stays
    whole), else where it was recorded. Without a record, a pipeline's sibling by name
    (`<stem><legacy_suffix>`). None when it does not exist."""
    if recorded:
        here = _beside(directory, _name(recorded))
        return here if is_dir(here) else (recorded if is_dir(recorded) else None)
    stem = _stem(directory, "-pipeline") if legacy_suffix else None
    if stem and is_dir(_beside(directory, stem + legacy_suffix)):
        return _beside(directory, stem + legacy_suffix)
    return None


def _siblings(directory: str, suffix: str) -> list[str]:
    """Directories beside `directory` that may be a part of its experiment: the one named
    after it (`<stem><suffix>`) first, then (on a local disk) every other one with a record."""
    found = []
    stem = next((_stem(directory, f"-{k}") for k in KINDS if _stem(directory, f"-{k}")), None)
    if stem:
        found.append(_beside(directory, stem + suffix))
    if not is_uri(directory):
        parent = Path(directory).parent
        try:
            entries = sorted(parent.iterdir(), key=lambda p: p.name)
        except OSError:
            entries = []
        found += [str(parent / p.name) for p in entries
                  if (p / RECORD_FILE).is_file() and str(parent / p.name) not in found]
    return [path for path in found if is_dir(path) and not _same(path, directory)]


def _sibling_pipeline(directory: str, kind: str) -> str | None:
    """The pipeline whose record names `directory` as its `kind` part; a pipeline without a
    record: the one named after it."""
    for path in _siblings(directory, "-pipeline"):
        record = read_record(path)
        if record.get("kind") == "pipeline" and record.get(kind):
            if _same(_linked(path, record[kind]) or record[kind], directory):
                return path
        elif not record and _stem(path, "-pipeline") is not None \
                and _stem(path, "-pipeline") == _stem(directory, f"-{kind}"):
            return path
    return None


def _sibling_retrain(sweep: str) -> str | None:
    """A retrain beside `sweep` whose record names it; one without a record (written before
    records) whose genotypes came from its trials."""
    for path in _siblings(sweep, "-retrain"):
        record = read_record(path)
        if record.get("kind") == "retrain":
            if any(_same(_linked(path, s) or s, sweep) for s in record.get("sweeps", [])):
                return path
        elif not record and directory_kind(path) == "retrain" and _sources_in(path, sweep):
            return path
    return None


def _legacy_sweep_of_retrain(retrain: str) -> str | None:
    stem = _stem(retrain, "-retrain")
    if stem is None:
        return None
    sweep = _beside(retrain, stem + "-sweep")
    return sweep if is_dir(sweep) and _sources_in(retrain, sweep) else None


def _sources_in(retrain: str, sweep: str) -> bool:
    """Whether a retrain's genotypes came from the trials of `sweep` (its rows' source trials)."""
    from orchestrator.cluster.storage import read_parquet

    table = read_parquet(join(retrain, "retrain.parquet"), "a retrain table")
    trials = read_parquet(join(sweep, "trials.parquet"), "a sweep's trials table")
    if table is None or trials is None or "source_trials" not in table.column_names:
        return False
    sources = {t for row in table.column("source_trials").to_pylist() if row for t in row}
    return bool(sources & set(trials.column("trial_id").to_pylist()))
