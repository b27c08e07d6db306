"""Results where ML teams already look: with `tracking: {mlflow: URI}` every sweep trial and
every retrain run is an MLflow run (Ray Tune's `MLflowLoggerCallback`), its knobs as params
and its epochs' numeric metrics, step = epoch.

Off by default. The URI is MLflow's own: `sqlite:///abs/path/mlflow.db` is a local store that
works offline; `file:/abs/path/mlruns`, MLflow's older file store, works too (MLflow 3 refuses
it unless `MLFLOW_ALLOW_FILE_STORE=true`, which alphadarts sets when the user names one);
`http://HOST:5000` is a tracking server. MLflow is an optional dependency
(`pip install 'alphadarts[mlflow]'`, part of `[dev]`).
"""

from __future__ import annotations

import os
from collections.abc import Callable

from pydantic import Field, field_validator

from trainables.config import StrictModel


class TrackingConfig(StrictModel):
    mlflow: str | None = Field(None, description="MLflow tracking URI; null: no MLflow runs")

    @field_validator("mlflow")
    @classmethod
    def _a_uri(cls, uri: str | None) -> str | None:
        if uri is not None and "://" not in uri and not uri.startswith("file:"):
            raise ValueError("give a tracking URI: sqlite:///ABS/PATH/mlflow.db (local, offline), "
                             "file:/ABS/PATH/mlruns, or http://HOST:PORT")
        return uri


def check_tracking(config: TrackingConfig) -> None:
    """At the door: MLflow must be importable when a run asks for it."""
    from importlib.util import find_spec

    from orchestrator.errors import UsageError

    if config.mlflow is not None and find_spec("mlflow") is None:
        raise UsageError(f"tracking.mlflow={config.mlflow!r} needs MLflow: pip install 'alphadarts[mlflow]' "
                         "(or mlflow-skinny), or set tracking.mlflow: null")


def tracking_callbacks(config: TrackingConfig, experiment_name: str,
                       params: Callable[[dict], dict] = dict) -> list:
    """The Tune callbacks that send a stage's trials to MLflow (none when off). `params`
    turns a trial's config into the params MLflow records (the sweep's: its knobs, with the
    replicate's seed)."""
    if config.mlflow is None:
        return []
    if config.mlflow.startswith("file:"):
        os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"  # named by the user: MLflow 3 refuses it otherwise
    from orchestrator.stages.mlflow_callback import KnobsMLflowLoggerCallback

    return [KnobsMLflowLoggerCallback(params, tracking_uri=config.mlflow, experiment_name=experiment_name,
                                      save_artifact=False)]
