"""`retrain.parquet`: one row per retrained genotype and seed, written by the retrain stage
and read by the report. The schema lives here, apart from both, so that the writer and the
reader cannot drift apart: the retrain stage builds its table with `RETRAIN_SCHEMA`, the
report refuses a table that does not carry its columns.
"""

from __future__ import annotations

import io

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from orchestrator.errors import UsageError
from orchestrator.cluster.storage import join, read_parquet, write_bytes

RETRAIN_FILE = "retrain.parquet"

RETRAIN_SCHEMA = pa.schema([
    ("genotype_hash", pa.string()),      # the genotype's 12-hex-digit key
    ("genotype", pa.string()),           # str(genotype): Genotype(...) or a NB201 string
    ("genotype_json", pa.string()),      # genotype.to_json()
    ("space", pa.string()),              # darts | nb201
    ("source_trials", pa.list_(pa.string())),  # sweep trials that found this genotype
    ("knobs", pa.string()),              # JSON: the knobs of those trials
    ("seed", pa.int64()),                # the retrain seed
    ("status", pa.string()),
    ("test_acc", pa.float64()),          # final epoch's test accuracy
    ("test_ce", pa.float64()),
    ("train_acc", pa.float64()),
    ("params", pa.int64()),              # auxiliary head excluded
    ("macs", pa.int64()),
    ("epochs", pa.int64()),
    ("wall_time_s", pa.float64()),
    ("run_dir", pa.string()),
])


def write_retrain(directory: str, rows: list[dict]) -> str:
    """Write the table atomically (temp file, then rename: a reader such as the report never
    sees half a file); keys not in the schema are dropped, missing ones are null."""
    table = pa.Table.from_pylist([{k: row.get(k) for k in RETRAIN_SCHEMA.names} for row in rows],
                                 schema=RETRAIN_SCHEMA)
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    target = join(directory, RETRAIN_FILE)
    write_bytes(target, buffer.getvalue())
    return target


def merge_retrain(directory: str, rows: list[dict]) -> pd.DataFrame:
    """Write `rows` into the table in `directory`, replacing the rows of the same (genotype,
    seed) and keeping the others (earlier retrains); returns the whole table."""
    fresh = {(r["genotype_hash"], r["seed"]) for r in rows}
    existing = load_retrain(directory)
    kept = [] if existing is None else [
        r for r in existing.to_dict(orient="records") if (r["genotype_hash"], r["seed"]) not in fresh
    ]
    write_retrain(directory, kept + rows)
    return pd.DataFrame([{k: r.get(k) for k in RETRAIN_SCHEMA.names} for r in kept + rows],
                        columns=RETRAIN_SCHEMA.names)


def load_retrain(directory: str) -> pd.DataFrame | None:
    """The retrain table in `directory`, or None when the retrain has not written one.
    A table without the schema's columns is refused (UsageError), naming what is missing."""
    path = join(str(directory), RETRAIN_FILE)
    table = read_parquet(path, "a retrain table")
    if table is None:
        return None
    missing = [name for name in RETRAIN_SCHEMA.names if name not in table.column_names]
    if missing:
        raise UsageError(f"{path} lacks the retrain columns {missing}; it was not written "
                         "with orchestrator.tables.retrain_table.RETRAIN_SCHEMA")
    return table.select(RETRAIN_SCHEMA.names).to_pandas()


def genotype_leaderboard(retrain: pd.DataFrame) -> pd.DataFrame:
    """One row per genotype, best mean test accuracy first: mean and standard deviation of
    the final test accuracy over the seeds that finished (status TERMINATED: every epoch
    ran; a stopped or failed run's last test accuracy is an earlier epoch's), how many did
    and how many did not, size, and where the genotype came from. Genotypes with no
    finished seed come last."""
    rows = []
    for key, group in retrain.groupby("genotype_hash", sort=False):
        done = group[(group["status"] == "TERMINATED") & group["test_acc"].notna()]
        sources = sorted({t for trials in group["source_trials"] if trials is not None for t in trials})
        first = done.iloc[0] if len(done) else group.iloc[0]  # failed runs may lack sizes
        rows.append({
            "genotype_hash": key,
            "test_acc_mean": done["test_acc"].mean() if len(done) else float("nan"),
            "test_acc_std": done["test_acc"].std(ddof=1) if len(done) > 1 else float("nan"),
            "seeds": int(done["seed"].nunique()),
            "unfinished": int(len(group) - len(done)),
            "test_ce_mean": done["test_ce"].mean() if len(done) else float("nan"),
            "params": first["params"],
            "macs": first["macs"],
            "epochs": group["epochs"].max(),
            "source_trials": sources,
            "knobs": first["knobs"],
            "space": first["space"],
            "genotype": first["genotype"],
            "genotype_json": first["genotype_json"],
        })
    board = pd.DataFrame(rows, columns=[
        "genotype_hash", "test_acc_mean", "test_acc_std", "seeds", "unfinished", "test_ce_mean",
        "params", "macs", "epochs", "source_trials", "knobs", "space", "genotype", "genotype_json"])
    board = board.sort_values("test_acc_mean", ascending=False, na_position="last", kind="stable")
    board.insert(0, "rank", range(1, len(board) + 1))
    return board.reset_index(drop=True)
