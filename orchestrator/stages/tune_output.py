"""What a Tune stage prints while it runs, and what it leaves for TensorBoard.

Tune's default output prints every trial's whole result (α, the genotype) and its TensorBoard
logger warns about list values it cannot draw. Here instead:
  - `progress_reporting(...)`: Tune's legacy `CLIReporter` at verbosity 1 (the status table
    only), with the columns a stage names, printed when a trial starts or ends, for new
    epochs alone at most every `interval_s` seconds, and once at the end;
  - `ScalarTBXLoggerCallback`: TensorBoard event files with the scalar metrics only (and, when
    a trial ends, its HParams: knobs -> last scalars), so lists and dicts never reach
    tensorboardX.
How much is shown follows the CLI's -q / -v (`orchestrator.console`). The Train workers' own
"Reporting training result ..." log is silenced in `trainables.ray_trainer.quiet_train_worker`.
"""

from __future__ import annotations

import numbers
import os
import time
from collections.abc import Callable

from ray.tune import CLIReporter
from ray.tune.logger import TBXLoggerCallback

from orchestrator.console import verbosity

#: seconds between two progress tables for new epochs alone (a trial that starts or ends
#: prints sooner; the last table always). `-v` lowers it.
DEFAULT_INTERVAL_S = 120.0


class ChangedOnlyReporter(CLIReporter):
    """A CLIReporter that prints when a trial changed status (at most every `status_s`
    seconds), when trials only reported new epochs at most every `interval_s` seconds, and
    always at the end: the number of tables follows the number of trials, not the wall time.
    Tune's "Result logdir" line (a staging directory under /tmp/ray, not the experiment
    directory) is left out."""

    def __init__(self, *args, interval_s: float = DEFAULT_INTERVAL_S, status_s: float = 5.0, **kwargs):
        super().__init__(*args, max_report_frequency=0, **kwargs)
        self._interval_s, self._status_s = interval_s, status_s
        self._last_printed = float("-inf")
        self._last_status: tuple = ()
        self._last_results: tuple = ()

    def should_report(self, trials, done: bool = False) -> bool:
        status = tuple(sorted((t.trial_id, t.status) for t in trials))
        results = tuple(sorted((t.trial_id, (t.last_result or {}).get("training_iteration"))
                               for t in trials))
        waited = time.monotonic() - self._last_printed
        if not (done or (status != self._last_status and waited >= self._status_s)
                or (results != self._last_results and waited >= self._interval_s)):
            return False
        self._last_status, self._last_results = status, results
        self._last_printed = time.monotonic()
        return True

    def _print(self, msg: str):
        super()._print("\n".join(line for line in msg.splitlines()
                                 if not line.startswith("Result logdir:")))


def progress_reporting(metric_columns: list[str], parameter_columns: list[str] | dict[str, str],
                       metric: str | None = None, mode: str | None = None) -> dict:
    """`tune.RunConfig` keyword arguments: the status table with these columns, or nothing
    with -q. Switches Tune to its legacy output engine (the new one ignores a reporter and
    prints every trial's whole result), which it reads from the environment."""
    os.environ["RAY_AIR_NEW_OUTPUT"] = "0"
    level = verbosity()
    if level <= 0:
        return {"verbose": 0}
    reporter = ChangedOnlyReporter(
        metric_columns=list(dict.fromkeys(metric_columns)), parameter_columns=parameter_columns,
        metric=metric, mode=mode, max_column_length=24, print_intermediate_tables=True,
        interval_s=DEFAULT_INTERVAL_S if level == 1 else 5.0,
    )
    return {"verbose": 1, "progress_reporter": reporter}


class ScalarTBXLoggerCallback(TBXLoggerCallback):
    """Tune's TensorBoard logger, given only the numeric metrics of each result: α, the
    genotype and the rank digests (dicts, lists, strings) live in the Parquet tables and
    checkpoints, and tensorboardX would only warn about them. A callback of this class in
    `RunConfig.callbacks` replaces Tune's default one.

    `hparams`, where given, turns a trial's config into the HParams TensorBoard shows (the
    sweep's: the knobs with the replicate's seed, as the result tables name them, instead of
    Tune's replicate index)."""

    def __init__(self, hparams: Callable[[dict], dict] | None = None):
        super().__init__()
        self.hparams = hparams

    def log_trial_result(self, iteration: int, trial, result: dict):
        scalars = {k: v for k, v in result.items()
                   if k == "config" or (isinstance(v, numbers.Number) and not isinstance(v, bool))}
        super().log_trial_result(iteration, trial, scalars)

    def _try_log_hparams(self, trial, result: dict):
        if self.hparams is None:
            return super()._try_log_hparams(trial, result)
        from tensorboardX.summary import hparams

        params = {k: v for k, v in self.hparams(trial.evaluated_params).items()
                  if isinstance(v, self.VALID_HPARAMS)}
        for summary in hparams(hparam_dict=params, metric_dict=result):
            self._trial_writer[trial].file_writer.add_summary(summary)
