"""What a report is built from: the sweep's two tables and, once the retrain has run, the
retrain table. Loaded once here, so the page and the figures work on frames in memory (a
pipeline that already holds them can build the report without reading disk again)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from orchestrator.tables import results
from orchestrator.tables.retrain_table import RETRAIN_FILE, load_retrain
from orchestrator.cluster.storage import join, read_parquet


@dataclass(frozen=True)
class ReportInputs:
    sweep_dir: str
    trials: pd.DataFrame
    meta: dict                      # trials.parquet metadata: metric, mode, knobs, space, epochs
    epochs: pd.DataFrame | None     # None: the sweep has no epochs.parquet (yet)
    retrain: pd.DataFrame | None    # None: the retrain has not written retrain.parquet
    retrain_path: str               # where retrain.parquet was looked for


def load_inputs(sweep_dir: str, retrain_dir: str | None = None) -> ReportInputs:
    """UsageError when `sweep_dir` is not a sweep's directory; `retrain_dir` defaults to it."""
    trials, meta = results.load_trials(sweep_dir)
    epochs_table = read_parquet(join(str(sweep_dir), results.EPOCHS_FILE))
    epochs = None if epochs_table is None else epochs_table.to_pandas()
    retrain_dir = retrain_dir or sweep_dir
    return ReportInputs(
        sweep_dir=str(sweep_dir),
        trials=trials,
        meta=meta,
        epochs=epochs,
        retrain=load_retrain(retrain_dir),
        retrain_path=join(str(retrain_dir), RETRAIN_FILE),
    )
