"""A sweep's result tables: their schema, writing them, and reading them back as a
leaderboard and as a per-knob table of the spread across seeds.

`trials.parquet` has one row per trial and `epochs.parquet` one row per trial-epoch
(docs/sweep.md lists every column). The trials table carries, in its Parquet metadata, what
a reader cannot guess from the columns: the objective's metric and mode, and which columns
are the swept knobs.
"""

from __future__ import annotations

import io
import json
import math

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from orchestrator.errors import UsageError
from orchestrator.cluster.storage import is_dir, join, read_parquet, write_bytes
from trainables.metrics import PER_TRIAL_METRICS, PLACEMENT_METRICS, PROXY_METRICS, SEARCH_EPOCH_METRICS

TRIALS_FILE = "trials.parquet"
EPOCHS_FILE = "epochs.parquet"
METADATA_KEY = b"alphadarts.sweep"

#: Parquet type of each knob column (phases is written as e.g. "weights+alpha").
KNOB_TYPES = {
    "mask_ratio": pa.float64(),
    "seed": pa.int64(),
    "decoder_depth": pa.int64(),
    "mim_weight": pa.float64(),
    "patch_size": pa.int64(),
    "phases": pa.string(),
}

#: Parquet type of each declared metric type (trainables.metrics); structured values (the
#: genotype, α) are stored as JSON text.
ARROW_TYPES = {
    float: pa.float64(), int: pa.int64(), bool: pa.bool_(), str: pa.string(),
    dict: pa.string(), list: pa.list_(pa.string()),
}

#: Final metrics kept per trial, from the search loop's last epoch report.
TRIAL_METRICS = {m.name: ARROW_TYPES[m.type] for m in PER_TRIAL_METRICS}

TRIAL_COLUMNS = {
    "status": pa.string(),
    "epochs": pa.int64(),
    "objective": pa.float64(),
    **TRIAL_METRICS,
    "genotype": pa.string(),
    "genotype_json": pa.string(),
    "genotype_hash": pa.string(),
    "error": pa.string(),
    "run_dir": pa.string(),
    "checkpoint": pa.string(),
    "time_total_s": pa.float64(),
}

EPOCH_METRICS = SEARCH_EPOCH_METRICS + PROXY_METRICS + PLACEMENT_METRICS

EPOCH_SCHEMA = pa.schema(
    [("trial_id", pa.string())]
    + [(m.name, ARROW_TYPES[m.type]) for m in EPOCH_METRICS]
    + [("checkpoint_path", pa.string())]
)


def epoch_row(trial_id: str, metrics: dict, checkpoint_path: str | None = None) -> dict:
    """One epochs.parquet row from a search epoch's report: structured values as JSON."""
    row = {"trial_id": trial_id, "checkpoint_path": checkpoint_path}
    for m in EPOCH_METRICS:
        value = metrics.get(m.name)
        row[m.name] = json.dumps(value) if m.type is dict and value is not None else value
    return row

#: a trial that will not run again: it ran every epoch, ASHA stopped it, or it failed
FINISHED = ("TERMINATED", "STOPPED", "ERROR")
#: a trial that ended with results: it ran every epoch, or ASHA stopped it at a rung
ENDED = ("TERMINATED", "STOPPED")
#: per-trial benchmark columns the leaderboard shows when a sweep has them (docs/nas-bench-201.md)
BENCH_SHOWN = ("bench_status", "bench_cifar10_test", "bench_cifar100_test", "bench_imagenet16_test")


def trials_schema(meta: dict) -> pa.Schema:
    """`meta`: {"metric", "mode", "knobs": [swept knob names], ...}."""
    fields = [("trial_id", pa.string())]
    fields += [(knob, KNOB_TYPES[knob]) for knob in meta["knobs"]]
    fields += list(TRIAL_COLUMNS.items())
    return pa.schema(fields, metadata={METADATA_KEY: json.dumps(meta).encode()})


def write_trials(experiment_dir: str, rows: list[dict], meta: dict) -> None:
    _write(join(experiment_dir, TRIALS_FILE), rows, trials_schema(meta))


def write_epochs(experiment_dir: str, rows: list[dict]) -> None:
    _write(join(experiment_dir, EPOCHS_FILE), rows, EPOCH_SCHEMA)


def _write(target: str, rows: list[dict], schema: pa.Schema) -> None:
    """Columns not in `schema` are dropped; missing ones are null. Written atomically."""
    table = pa.Table.from_pylist([{k: row.get(k) for k in schema.names} for row in rows], schema=schema)
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    write_bytes(target, buffer.getvalue())


def read_rows(path: str) -> list[dict]:
    """A table written here, as rows (to continue it after a resume); [] if absent."""
    table = read_parquet(path)
    return [] if table is None else table.to_pylist()


def load_trials(experiment_dir: str) -> tuple[pd.DataFrame, dict]:
    """The trials table and its metadata (a local directory or a URI: s3://, gs://, file://);
    UsageError when the directory is not a sweep's."""
    if not is_dir(experiment_dir):
        raise UsageError(f"experiment directory {experiment_dir!r} does not exist")
    table_path = join(str(experiment_dir), TRIALS_FILE)
    table = read_parquet(table_path, "a sweep's trials table")
    if table is None:
        raise UsageError(
            f"{experiment_dir!r} is not a sweep's experiment directory (it has no {TRIALS_FILE}; "
            "`alphadarts sweep CONFIG` writes one)"
        )
    raw = (table.schema.metadata or {}).get(METADATA_KEY)
    if raw is None:
        raise UsageError(f"{table_path} was not written by `alphadarts sweep` (no sweep metadata)")
    return table.to_pandas(), json.loads(raw)


def leaderboard(trials: pd.DataFrame, meta: dict) -> pd.DataFrame:
    """Trials best first by the objective; trials without a value (errors) last."""
    ranked = trials.sort_values(
        "objective", ascending=meta["mode"] == "min", na_position="last", kind="stable"
    ).reset_index(drop=True)
    ranked.insert(0, "rank", range(1, len(ranked) + 1))
    columns = ["rank", "trial_id", *meta["knobs"], "status", "epochs", "objective",
               "param_free_ops", "genotype_hash", "error"]
    # NAS-Bench-201's test accuracy of each trial's cell, where a benchmark was read (reported, not ranked on)
    bench = [c for c in BENCH_SHOWN if c in ranked and ranked[c].notna().any()]
    return ranked[columns[:-1] + bench + columns[-1:]]


def seed_groups(trials: pd.DataFrame, meta: dict) -> pd.DataFrame:
    """One row per setting of the swept knobs but the seed: the objective's mean and spread
    across seeds, and how many distinct genotypes those seeds found. Trials without an
    objective value (errors) are counted in `trials` but not in the statistics."""
    keys = [k for k in meta["knobs"] if k != "seed"]
    frame = trials.assign(_all="all") if not keys else trials
    keys = keys or ["_all"]
    stats = {"trials": ("trial_id", "size")}
    if "seed" in meta["knobs"]:
        stats["seeds"] = ("seed", "nunique")
    stats.update(
        objective_mean=("objective", "mean"),
        objective_std=("objective", "std"),
        objective_min=("objective", "min"),
        objective_max=("objective", "max"),
        genotypes=("genotype_hash", "nunique"),
    )
    table = frame.groupby(keys, dropna=False, sort=False).agg(**stats).reset_index()
    table = table.sort_values("objective_mean", ascending=meta["mode"] == "min", na_position="last")
    return table.drop(columns=["_all"], errors="ignore").reset_index(drop=True)


def summarize(trials: pd.DataFrame, meta: dict, experiment_dir: str) -> dict:
    """What `sweep --json` and `results --json` end with: counts by status and the best trial."""
    counts = {status: int(n) for status, n in trials["status"].value_counts().sort_index().items()}
    ranked = leaderboard(trials, meta)
    best = None
    if len(ranked) and not pd.isna(ranked.loc[0, "objective"]):
        row = trials.set_index("trial_id").loc[ranked.loc[0, "trial_id"]]
        best = {
            "trial_id": ranked.loc[0, "trial_id"],
            "knobs": {k: plain(row[k]) for k in meta["knobs"]},
            "metric": meta["metric"],
            "objective": float(row["objective"]),
            "epochs": int(row["epochs"]),
            "genotype": row["genotype"],
            "genotype_hash": row["genotype_hash"],
            "run_dir": row["run_dir"],
        }
    return {
        "experiment_dir": str(experiment_dir),
        "metric": meta["metric"],
        "mode": meta["mode"],
        "num_trials": int(len(trials)),
        "trials_by_status": counts,
        "best": best,
    }


def records(frame: pd.DataFrame) -> list[dict]:
    """Rows as JSON-ready dicts (NaN -> None, NumPy scalars -> Python, arrays -> lists)."""
    return [{k: plain(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


def plain(value):
    """One table cell as a JSON-ready Python value."""
    if hasattr(value, "tolist") and getattr(value, "ndim", 0) > 0:
        return [plain(v) for v in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value
