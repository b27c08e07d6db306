"""Which knob matters: Optuna's parameter importance over a sweep's finished trials.

Read from the sweep's Optuna study (`optuna.db`, one COMPLETE trial per setting whose seeds
all finished, its value the objective's mean over those seeds) with `optuna.importance.get_param_importances` and a named
evaluator: fANOVA (`FanovaImportanceEvaluator(seed=0)`: a random forest fitted to
knobs -> objective, each knob's share of the objective's variance; deterministic with the
seed). Optuna 5's own default is PED-ANOVA, which compares the top quantile of trials with the
rest and says little with a handful of trials; fANOVA is named explicitly so the numbers do
not change meaning with Optuna's default.

What cannot be estimated is said, not raised: fewer than 2 finished trials, knobs that took
one value only (no variance to attribute: listed with that value and left out), an objective
that never varied, a directory without a study.
"""

from __future__ import annotations

import contextlib
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

STUDY_FILE = "optuna.db"  # as orchestrator.stages.sweep writes it
EVALUATOR = "fanova"
EVALUATOR_DOC = "fANOVA (optuna.importance.FanovaImportanceEvaluator, seed 0)"


def param_importances(experiment_dir: str, study_name: str, knobs: list[str]) -> dict:
    """{"evaluator", "evaluator_doc", "finished_trials", "params": {knob: importance, best
    first}, "constant": {knob: its one value}, "note": why nothing or less was estimated}."""
    answer = {"evaluator": EVALUATOR, "evaluator_doc": EVALUATOR_DOC, "finished_trials": 0,
              "params": {}, "constant": {}, "note": None}
    from orchestrator.cluster.storage import join

    with _local_study(experiment_dir) as db:
        if db is None or not db.is_file():
            answer["note"] = f"no {STUDY_FILE} in the directory: importance needs the sweep's Optuna study"
            return answer
        return _estimate(answer, db, study_name, knobs, shown=join(experiment_dir, STUDY_FILE))


def _estimate(answer: dict, db: Path, study_name: str, knobs: list[str], shown: str) -> dict:
    """`answer` filled from the study named `study_name` in the local SQLite file `db` (a
    copy, for a study at a URI: `shown` is where the user's study is)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        study = optuna.load_study(study_name=study_name, storage=f"sqlite:///{db}")
    except KeyError:
        answer["note"] = f"{shown} holds no study named {study_name!r}"
        return answer
    done = [t for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
            if t.value is not None]
    answer["finished_trials"] = len(done)
    if len(done) < 2:
        answer["note"] = f"{len(done)} finished trial(s): importance needs at least 2"
        return answer
    present = [k for k in knobs if all(k in t.params for t in done)]
    varied = []
    for knob in present:
        values = {repr(t.params[knob]) for t in done}
        if len(values) == 1:
            answer["constant"][knob] = done[0].params[knob]
        else:
            varied.append(knob)
    if not varied:
        answer["note"] = "no knob took more than one value over the finished trials"
        return answer
    if len({t.value for t in done}) == 1:
        answer["note"] = f"the objective was {done[0].value:g} in every finished trial: nothing to attribute"
        return answer
    from optuna.importance import FanovaImportanceEvaluator, get_param_importances

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ExperimentalWarning and sklearn's chatter
        scores = get_param_importances(study, evaluator=FanovaImportanceEvaluator(seed=0),
                                       params=varied, normalize=True)
    answer["params"] = {k: float(v) for k, v in scores.items()}
    return answer


@contextlib.contextmanager
def _local_study(experiment_dir: str) -> Iterator[Path | None]:
    """The study file to open: in a local directory itself; from a URI (s3://, gs://) a
    copy in a temporary directory (SQLite opens local files only), removed on leaving;
    None when there is none."""
    from orchestrator.cluster.storage import is_file, is_uri, join, read_bytes

    if not is_uri(experiment_dir):
        yield Path(experiment_dir, STUDY_FILE)
        return
    remote = join(experiment_dir, STUDY_FILE)
    if not is_file(remote):
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="alphadarts-study-") as scratch:
        copy = Path(scratch, STUDY_FILE)
        copy.write_bytes(read_bytes(remote))
        yield copy


def importance_lines(answer: dict, metric: str) -> list[str]:
    """The text `alphadarts results` prints."""
    head = (f"which knob matters for {metric}: {answer['evaluator_doc']}, "
            f"over {answer['finished_trials']} finished Optuna trial(s) (a setting each, its "
            "value the mean over the setting's seeds)")
    lines = [head]
    for knob, value in answer["params"].items():
        lines.append(f"  {knob:<16} {value:.3f}  {'#' * round(20 * value)}")
    for knob, value in answer["constant"].items():
        lines.append(f"  {knob:<16} -      one value only ({value}): not estimated")
    if answer["note"]:
        lines.append(f"  {answer['note']}")
    return lines


def importance_rows(answer: dict) -> list[dict]:
    """importances.csv: one row per knob (constant knobs with an empty importance)."""
    rows = [{"knob": k, "importance": v, "evaluator": answer["evaluator"], "note": ""}
            for k, v in answer["params"].items()]
    rows += [{"knob": k, "importance": None, "evaluator": answer["evaluator"],
              "note": f"one value only ({v})"} for k, v in answer["constant"].items()]
    return rows
