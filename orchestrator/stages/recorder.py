"""Result tables kept up to date while Tune runs: one row per trial, one per report.

`TrialTableRecorder` is the part every stage shares (a Tune callback, rows kept in memory,
both tables rewritten atomically after every event, picked up again from disk on a resume);
a stage says what a row holds. `SweepRecorder` is the sweep's: trials.parquet with the knobs,
the objective and the last epoch's metrics, epochs.parquet with every epoch's report.
"""

from __future__ import annotations

import math
from pathlib import Path

from ray import cloudpickle, tune

from orchestrator.tables.results import (
    EPOCHS_FILE,
    TRIAL_METRICS,
    TRIALS_FILE,
    epoch_row,
    read_rows,
    write_epochs,
    write_trials,
)
from orchestrator.cluster.storage import join
from orchestrator.sweep_config import trial_knobs
from search_space import genotype_from_dict
from trainables.checkpoint import STATE_FILE, load_state
from trainables.metrics import PROXY_METRICS

#: metrics a search reports at some epochs only (NaN in the others)
PROXY_METRIC_NAMES = frozenset(m.name for m in PROXY_METRICS)


class TrialTableRecorder(tune.Callback):
    """Keeps a per-trial table (and, where a stage has one, a per-report table) up to date as
    Tune reports. Pickled with the Tuner, so a resumed run starts from the tables on disk."""

    trials_file = TRIALS_FILE
    reports_file: str | None = None

    def __init__(self, experiment_dir: str):
        self.experiment_dir = experiment_dir
        self._trials: dict[str, dict] = {}
        self._reports: list[dict] = []

    # what a stage defines --------------------------------------------------------------
    def trial_fields(self, trial) -> dict:
        """Columns known when the trial starts (its config)."""
        return {}

    def result_fields(self, trial, result: dict) -> dict:
        """Columns updated by each report."""
        return {}

    def report_rows(self, trial, result: dict) -> list[dict]:
        """Rows for the per-report table from one report."""
        return []

    def finished_status(self, row: dict) -> str:
        return "TERMINATED"

    def write(self, trials: list[dict], reports: list[dict]) -> None:
        raise NotImplementedError

    # Tune's callbacks --------------------------------------------------------------------
    def setup(self, **info) -> None:
        self._trials = {r["trial_id"]: r for r in read_rows(join(self.experiment_dir, self.trials_file))}
        if self.reports_file:
            self._reports = read_rows(join(self.experiment_dir, self.reports_file))
        self._write()

    def on_trial_start(self, iteration, trials, trial, **info) -> None:
        self._row(trial)["status"] = "RUNNING"
        self._write()

    def on_trial_result(self, iteration, trials, trial, result, **info) -> None:
        self._reports += self.report_rows(trial, result)
        self._row(trial).update(status="RUNNING", **self.result_fields(trial, result))
        self._write()

    def on_trial_complete(self, iteration, trials, trial, **info) -> None:
        row = self._row(trial)
        row["status"] = self.finished_status(row)
        self._write()

    def on_trial_error(self, iteration, trials, trial, **info) -> None:
        self._row(trial).update(status="ERROR", error=error_reason(trial))
        self._write()

    def on_experiment_end(self, trials, **info) -> None:
        """Drop the rows of trials the finished run does not know: a driver killed (SIGKILL)
        after starting a trial but before Tune saved its state leaves that trial in the table
        as RUNNING, while the restored run never resumes it (it asks its searcher for a new
        one; the study closes the old one as FAIL)."""
        known = {t.trial_id for t in trials}
        ghosts = set(self._trials) - known
        if ghosts:
            self._trials = {k: v for k, v in self._trials.items() if k in known}
            self._reports = [r for r in self._reports if r.get("trial_id") not in ghosts]
            self._write()

    def _row(self, trial) -> dict:
        row = self._trials.setdefault(trial.trial_id, {"trial_id": trial.trial_id})
        row.update(self.trial_fields(trial))
        return row

    def _write(self) -> None:
        self.write(list(self._trials.values()), self._reports)


class SweepRecorder(TrialTableRecorder):
    """trials.parquet and epochs.parquet of a sweep (schemas in orchestrator.tables.results)."""

    reports_file = EPOCHS_FILE

    def __init__(self, experiment_dir: str, meta: dict, searches_dir: str):
        super().__init__(experiment_dir)
        self.meta = meta
        self.searches_dir = searches_dir

    def trial_fields(self, trial) -> dict:
        knobs = trial_knobs(trial.config, self.meta.get("seeds"))
        return {**{knob: knobs[knob] for knob in self.meta["knobs"]},
                "run_dir": join(self.searches_dir, trial.trial_id)}

    def result_fields(self, trial, result: dict) -> dict:
        genotype = genotype_from_dict(result["genotype"])
        scores = {"objective": result.get(self.meta["metric"]),
                  **{name: result.get(name) for name in TRIAL_METRICS}}
        # the proxy score arrives with some epochs only (NaN in the others): a trial keeps
        # the last one it had
        sparse = PROXY_METRIC_NAMES | ({"objective"} if self.meta["metric"] in PROXY_METRIC_NAMES else set())
        scores = {k: v for k, v in scores.items()
                  if not (k in sparse and isinstance(v, float) and math.isnan(v))}
        return dict(
            epochs=result["epoch"],
            **scores,
            genotype=str(genotype),
            genotype_json=genotype.to_json(),
            genotype_hash=result["genotype_hash"],
            checkpoint=result.get("checkpoint_path"),
            time_total_s=result.get("time_total_s"),
        )

    def report_rows(self, trial, result: dict) -> list[dict]:
        if any(row["trial_id"] == trial.trial_id and row["epoch"] == result["epoch"]
               for row in self._reports):
            return []  # an epoch reported again (a finished run restarted): recorded once
        return [*self._missed_epochs(trial.trial_id, result),
                epoch_row(trial.trial_id, result, result.get("checkpoint_path"))]

    def finished_status(self, row: dict) -> str:
        return "TERMINATED" if (row.get("epochs") or 0) >= self.meta["epochs"] else "STOPPED"

    def write(self, trials: list[dict], reports: list[dict]) -> None:
        write_trials(self.experiment_dir, trials, self.meta)
        write_epochs(self.experiment_dir, reports)

    def _missed_epochs(self, trial_id: str, result: dict) -> list[dict]:
        """Epochs whose report was in flight when a sweep was interrupted: the resumed run
        starts after its last checkpoint, so they are taken from that checkpoint's history."""
        seen = {row["epoch"] for row in self._reports if row["trial_id"] == trial_id}
        if seen >= set(range(1, result["epoch"])):
            return []
        state = load_state(Path(result["checkpoint_path"]) / STATE_FILE)
        return [epoch_row(trial_id, m) for m in state["history"]
                if m["epoch"] < result["epoch"] and m["epoch"] not in seen]


def error_reason(trial) -> str:
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
