"""One reading of a genotype reference, for every command that takes a genotype (`inspect`,
`retrain`, `genotype`, `lookup`).

Why: leaderboards name a genotype by its hash, sweeps by their trial ids, papers by a name
or a `Genotype(...)` string; each command used to accept its own subset. Accepted here, in
this order:
  - `DIR:TRIAL_ID` or `DIR:HASH`: DIR any directory of an experiment (a sweep's, a
    retrain's or a pipeline's: orchestrator.tables.experiment_dirs), then a trial id of its sweep,
    or a genotype hash of its sweep or retrain, or a unique prefix of one (as a leaderboard
    prints it). A trial id that matches exactly wins over a hash prefix;
  - a published name, a `Genotype(...)` or NB-201 string, JSON text or a .json file
    (search_space.parse_genotype).
Without a space asked for, the reference's own decides (a published name's, the text form's,
the JSON's, the experiment's). Every refusal is one line naming the reference; one that is
no reference at all, or names nothing in its directory, lists the forms.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from orchestrator.errors import UsageError
from orchestrator.tables.experiment_dirs import Experiment, find_experiment
from orchestrator.cluster.storage import is_uri

FORMS = ("a published name (DARTS_V2, NB201_RESNET, ...), a Genotype(...) or NB-201 string, JSON, "
         "a .json file, DIR:TRIAL_ID or DIR:HASH (a genotype hash or a unique prefix of it; DIR a "
         "sweep's, a retrain's or a pipeline's directory)")


@dataclass(frozen=True)
class GenotypeRef:
    """A genotype and, when the reference named an experiment, where it came from."""

    genotype: object                      # search_space.Genotype
    text: str                             # the reference as given
    experiment: Experiment | None = None
    source_trials: tuple[str, ...] = ()   # sweep trials that found it
    knobs: dict = field(default_factory=dict)  # the knobs of the best of those trials


def split_reference(text: str) -> tuple[str, str] | None:
    """(DIR, KEY) when `text` is written as DIR:KEY, else None. Genotype strings and JSON
    are never split; nor is an existing file (a path may hold a colon), nor a bare URI
    (`s3://bucket/x` has no key)."""
    text = text.strip()
    if not text or text[0] in "{|" or text.startswith("Genotype(") or os.path.isfile(text):
        return None
    head, sep, key = text.rpartition(":")
    if not sep or not head or "/" in key or (is_uri(text) and "://" not in head):
        return None
    return head, key


def resolve(text: str, space: str | None = None, flag: str = "--genotype",
            space_rule: str | None = None) -> GenotypeRef:
    """The genotype `text` refers to. `space`: the space the caller needs (None: the
    reference's own); `space_rule` says why, for the line that refuses another space
    (default: "SPACE genotypes are asked for")."""
    if not isinstance(text, str) or not text.strip():
        raise UsageError(f"{flag} {text!r} is empty; allowed: {FORMS}")
    split = split_reference(text)
    if split is not None:
        ref = _from_experiment(text, flag, *split)
    else:
        ref = GenotypeRef(_parse(text, flag, space, space_rule), text)
    genotype_space = ref.genotype.space
    if space is not None and genotype_space != space:
        where = f" (from {ref.experiment.short()})" if ref.experiment else ""
        raise UsageError(f"{flag} {text!r}{where} belongs to the {genotype_space} space, but "
                         f"{space_rule or f'{space} genotypes are asked for'}")
    return ref


# --- a published name, a string, JSON ------------------------------------------------------

def _parse(text: str, flag: str, space: str | None, space_rule: str | None):
    from search_space import SearchSpaceError, parse_genotype, space_names

    text = text.strip()
    if text.lower().endswith(".json") and not text.startswith("{") and not os.path.isfile(text):
        raise UsageError(f"{flag} {text!r}: no such .json file; allowed: {FORMS}")
    if os.path.isdir(text):
        raise UsageError(f"{flag} {text!r} is a directory: add :TRIAL_ID or :HASH (as its leaderboard "
                         f"prints it); allowed: {FORMS}")
    own = _own_space(text)
    if own is None:
        raise UsageError(f"{flag} {text!r} is not a genotype reference; allowed: {FORMS}")
    if space is not None and own not in ("?", "!") and own != space:
        raise UsageError(f"{flag} {text!r} belongs to the {own} space, but "
                         f"{space_rule or f'{space} genotypes are asked for'}")
    if own == "?" and space is None:
        raise UsageError(f"{flag} {text!r}: the JSON names no space (\"space\": \"darts\" or "
                         "\"nb201\"); add it, or give --space")
    try:  # not JSON ("!"): parse_genotype says why, whichever space reads it
        return parse_genotype(own if own not in ("?", "!") else space or space_names()[0], text)
    except SearchSpaceError as exc:
        message = str(exc).rstrip(".")
        raise UsageError(f"{flag}: {message}" if text in message else f"{flag} {text!r}: {message}") from None


def _own_space(text: str) -> str | None:
    """The space a reference's form belongs to; "?" for JSON that names none, "!" for text or
    a file that should be JSON and is not; None when it has no form we know."""
    from search_space import PUBLISHED_GENOTYPES, get_space, space_names

    by_upper = {name.upper(): name for name in PUBLISHED_GENOTYPES}
    if text.upper() in by_upper:
        return PUBLISHED_GENOTYPES[by_upper[text.upper()]].space
    if text.startswith("{") or os.path.isfile(text) or text.lower().endswith(".json"):
        try:
            data = json.loads(text if text.startswith("{") else Path(text).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError):
            return "!"
        own = data.get("space") if isinstance(data, dict) else None
        return own if own in space_names() else "?"
    for name in space_names():
        try:
            if get_space(name).parse_text(text) is not None:
                return name
        except ValueError:  # the form of this space, but malformed: parse_genotype says how
            return name
    return None


# --- DIR:TRIAL_ID and DIR:HASH -------------------------------------------------------------

def _from_experiment(text: str, flag: str, directory: str, key: str) -> GenotypeRef:
    experiment = find_experiment(directory, what=f"{flag} {text!r}: DIR", allowed=f"allowed: {FORMS}")
    if not key:
        raise UsageError(f"{flag} {text!r}: nothing after the colon; give a trial id or a genotype "
                         f"hash of {experiment.short()}; allowed: {FORMS}")
    trials, meta = _sweep_table(experiment)
    retrain = _retrain_table(experiment)
    if trials is not None and key in set(trials["trial_id"]):
        return _from_trial(text, flag, experiment, trials, meta, key)
    hashes = _hashes(trials, retrain)
    matches = [h for h in hashes if h.startswith(key.lower())]
    if len(matches) > 1:
        raise UsageError(f"{flag} {text!r}: the prefix {key!r} is ambiguous in {experiment.short()}: "
                         f"it starts {', '.join(sorted(matches))}; give more of the hash (allowed: {FORMS})")
    if not matches:
        known = []
        if trials is not None:
            known.append(f"trials {_listed(sorted(trials['trial_id']))}")
        known.append(f"genotype hashes {_listed(sorted(hashes))}" if hashes else "no genotype yet")
        raise UsageError(f"{flag} {text!r}: no trial and no genotype hash {key!r} in "
                         f"{experiment.short()} ({'; '.join(known)}); allowed: {FORMS}")
    return _from_hash(experiment, text, trials, meta, retrain, matches[0])


def _listed(items: list[str], most: int = 8) -> str:
    return ", ".join(items[:most]) + (f" and {len(items) - most} more" if len(items) > most else "")


def _sweep_table(experiment: Experiment):
    """(trials, meta) of the experiment's sweep; (None, None) when it has none or its sweep
    has reported no trial yet."""
    if experiment.sweep is None:
        return None, None
    from orchestrator.tables.results import TRIALS_FILE, load_trials
    from orchestrator.cluster.storage import is_file, join

    if not is_file(join(experiment.sweep, TRIALS_FILE)):
        return None, None
    return load_trials(experiment.sweep)


def _retrain_table(experiment: Experiment):
    if experiment.retrain is None:
        return None
    from orchestrator.tables.retrain_table import load_retrain

    return load_retrain(experiment.retrain)


def _hashes(trials, retrain) -> list[str]:
    """Every genotype hash of the experiment, the retrain's first."""
    found: dict[str, None] = {}
    for table in (retrain, trials):
        if table is not None:
            found.update((str(h), None) for h in table["genotype_hash"] if isinstance(h, str) and h)
    return list(found)


def _genotype(genotype_json: str):
    from search_space import genotype_from_dict

    return genotype_from_dict(json.loads(genotype_json))


def _from_trial(text, flag, experiment, trials, meta, trial_id) -> GenotypeRef:
    from orchestrator.tables.results import records

    row = records(trials[trials["trial_id"] == trial_id])[0]
    if not row.get("genotype_json"):
        raise UsageError(f"{flag} {text!r}: trial {trial_id} of {experiment.sweep} has no genotype "
                         f"(status {row['status']}); give a finished trial or a genotype hash (allowed: {FORMS})")
    return GenotypeRef(_genotype(row["genotype_json"]), text, experiment, (trial_id,),
                       {k: row[k] for k in meta["knobs"]})


def _from_hash(experiment, text, trials, meta, retrain, key) -> GenotypeRef:
    from orchestrator.tables.results import leaderboard, plain

    sources: list[str] = []
    knobs: dict = {}
    genotype_json = None
    if retrain is not None:
        rows = retrain[retrain["genotype_hash"] == key]
        if len(rows):
            genotype_json = rows.iloc[0]["genotype_json"]
            knobs = json.loads(rows.iloc[0]["knobs"] or "{}")
            sources += [t for ts in rows["source_trials"] if ts is not None for t in ts]
    if trials is not None:
        found = leaderboard(trials, meta)
        found = found[found["genotype_hash"] == key]
        if len(found):
            best = trials.set_index("trial_id").loc[found.iloc[0]["trial_id"]]
            genotype_json = genotype_json or best["genotype_json"]
            knobs = {k: plain(best[k]) for k in meta["knobs"]}
            sources = list(found["trial_id"]) + sources
    return GenotypeRef(_genotype(genotype_json), text, experiment, tuple(dict.fromkeys(sources)), knobs)


def retrain_config(ref: GenotypeRef):
    """The `retrain` section (trainables TrainConfig) of the config the referenced experiment
    ran with: the network that experiment trains its genotypes as. None when its directory
    holds no config.json."""
    from pydantic import ValidationError

    from orchestrator.cluster.storage import is_file, join, read_bytes
    from trainables.train_config import TrainConfig

    path = join(ref.experiment.asked, "config.json")
    if not is_file(path):
        return None
    try:
        section = json.loads(read_bytes(path)).get("retrain")
        return TrainConfig.model_validate(section)
    except (ValueError, AttributeError, ValidationError) as exc:
        raise UsageError(f"{path}: its retrain section cannot be read as a config ({str(exc).splitlines()[0]}); "
                         "give --dataset, --channels and --layers with another genotype form") from None
