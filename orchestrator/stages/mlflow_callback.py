"""Ray Tune's MLflow logger, telling MLflow what the result tables tell: a trial's knobs as
params, and the finite numbers of each report as metrics at step = epoch (α, genotypes and
other structured values live in the Parquet tables; a proxy score's NaN epochs are left out)."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable

from ray.air.integrations.mlflow import MLflowLoggerCallback


class KnobsMLflowLoggerCallback(MLflowLoggerCallback):
    def __init__(self, params: Callable[[dict], dict], **kwargs):
        super().__init__(**kwargs)
        self.params = params

    def log_trial_start(self, trial):
        if trial not in self._trial_runs:
            run = self.mlflow_util.start_run(tags={**self.tags, "trial_name": str(trial)}, run_name=str(trial))
            self._trial_runs[trial] = run.info.run_id
        self.mlflow_util.log_params(run_id=self._trial_runs[trial], params_to_log=self.params(trial.config))

    def log_trial_result(self, iteration: int, trial, result: dict):
        finite = {k: v for k, v in result.items()
                  if isinstance(v, numbers.Number) and not isinstance(v, bool) and math.isfinite(v)}
        self.mlflow_util.log_metrics(run_id=self._trial_runs[trial], metrics_to_log=finite,
                                     step=int(result.get("epoch", iteration)))
