"""The retrain stage: one genotype trained from scratch with N seeds, the seeds as parallel
Ray Tune trials, each trial a Ray Train run of the train loop.

Layout of `<output_dir>/<name>-retrain/`:
  Tune's own files, one trial_<id>/ per seed (result.json, TensorBoard events)
  runs/<genotype_hash>-seed<k>/   the Train run (checkpoints); a rerun resumes it
  retrain.parquet                 one row per (genotype, seed), columns RETRAIN_SCHEMA

Train runs are named after the genotype and the seed, so the same command run again trains
only what is missing: a finished run reports its final epoch again without training.
"""

from __future__ import annotations

import io
import json
import statistics
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from orchestrator.config import ExperimentConfig
from orchestrator.errors import UsageError
from orchestrator.storage import join, write_bytes
from orchestrator.trial_runner import (
    DRIVER_CPU,
    concurrent_trials,
    fit_in_trial,
    trial_dirname,
    trial_resources,
)
from search_space import Genotype, genotype_from_dict, parse_genotype
from trainables.train_config import TrainConfig

RETRAIN_FILE = "retrain.parquet"
RUNS_DIR = "runs"

RETRAIN_SCHEMA = pa.schema([
    ("genotype_hash", pa.string()),
    ("genotype", pa.string()),
    ("genotype_json", pa.string()),
    ("space", pa.string()),
    ("source_trials", pa.list_(pa.string())),
    ("knobs", pa.string()),
    ("seed", pa.int64()),
    ("status", pa.string()),
    ("test_acc", pa.float64()),
    ("test_ce", pa.float64()),
    ("train_acc", pa.float64()),
    ("params", pa.int64()),
    ("macs", pa.int64()),
    ("epochs", pa.int64()),
    ("wall_time_s", pa.float64()),
    ("run_dir", pa.string()),
])


@dataclass(frozen=True)
class RetrainTarget:
    """A genotype to retrain and where it came from (sweep trials and their knobs, if any)."""

    genotype: Genotype
    source_trials: tuple[str, ...] = ()
    knobs: dict = field(default_factory=dict)

    @classmethod
    def from_candidate(cls, candidate, space: str) -> "RetrainTarget":
        """From a `selection.Candidate` (the pipeline's top-k of a sweep)."""
        genotype = genotype_from_dict(json.loads(candidate.genotype_json), space)
        return cls(genotype, tuple(candidate.source_trials), dict(candidate.knobs))


def resolve_genotype(space: str, text: str) -> RetrainTarget:
    """A published name, a genotype string or JSON (file), or `EXPERIMENT_DIR:TRIAL_ID` of a
    sweep, whose trials.parquet holds the trial's genotype."""
    head, sep, trial_id = text.rpartition(":")
    if sep and head and Path(head).expanduser().is_dir():
        return _from_sweep_trial(space, head, trial_id)
    return RetrainTarget(parse_genotype(space, text))


def _from_sweep_trial(space: str, experiment_dir: str, trial_id: str) -> RetrainTarget:
    from orchestrator.results import load_trials, records

    trials, meta = load_trials(experiment_dir)
    rows = records(trials[trials["trial_id"] == trial_id])
    if not rows:
        known = ", ".join(sorted(trials["trial_id"])[:8])
        raise UsageError(f"--genotype {experiment_dir}:{trial_id}: no such trial; trials: {known}")
    row = rows[0]
    if not row.get("genotype_json"):
        raise UsageError(
            f"--genotype {experiment_dir}:{trial_id}: the trial has no genotype (status {row['status']})"
        )
    genotype = genotype_from_dict(json.loads(row["genotype_json"]), space)
    return RetrainTarget(genotype, (trial_id,), {k: row[k] for k in meta["knobs"]})


def experiment_name(config: ExperimentConfig) -> str:
    return f"{config.name}-retrain"


def run_name(genotype: Genotype, seed: int) -> str:
    return f"{genotype.key}-seed{seed}"


# --- one trial -----------------------------------------------------------------------------

def retrain_trial(knobs: dict, *, base: TrainConfig, genotype: Genotype, runs_dir: str) -> None:
    """Tune function trainable: train `genotype` with `knobs["seed"]` on Ray Train. `base`
    is the validated config itself; the Train workers receive it with the seed set."""
    from ray.tune.integration.ray_train import TuneReportCallback

    from trainables.ray_train import build_train_trainer

    config = base.model_copy(update={"seed": int(knobs["seed"])})
    name = run_name(genotype, config.seed)
    fit_in_trial(build_train_trainer(config, genotype, runs_dir, name, callbacks=[TuneReportCallback()]))


# --- the stage -----------------------------------------------------------------------------

def run_retrain(config: ExperimentConfig, target: RetrainTarget, seeds: int, address: str | None = None) -> dict:
    """Train `target` with seeds retrain.seed .. retrain.seed + seeds - 1; return the summary."""
    import ray
    from ray import tune

    from orchestrator.ray_runtime import ensure_ray
    from trainables.data import check_data_source

    if seeds < 1:
        raise UsageError(f"--seeds {seeds}: at least 1 is needed")
    train = config.retrain
    check_data_source(train.data.loading())  # before Ray starts: bad input costs no compute
    ensure_ray(address)
    path = join(config.storage_path, experiment_name(config))
    runs_dir = join(path, RUNS_DIR)
    genotype = target.genotype
    seed_values = list(range(train.seed, train.seed + seeds))
    rt = train.runtime
    needs = trial_resources(rt.num_workers, rt.cpus_per_worker, rt.use_gpu, rt.gpus_per_worker)
    trainable = tune.with_resources(
        tune.with_parameters(retrain_trial, base=train, genotype=genotype, runs_dir=runs_dir),
        {"cpu": DRIVER_CPU},
    )
    tuner = tune.Tuner(
        trainable,
        param_space={"seed": tune.grid_search(seed_values)},
        tune_config=tune.TuneConfig(
            max_concurrent_trials=concurrent_trials(needs, ray.cluster_resources(), seeds, None, "retrain.runtime"),
            trial_dirname_creator=trial_dirname,
        ),
        run_config=tune.RunConfig(
            name=experiment_name(config),
            storage_path=config.storage_path,
            failure_config=tune.FailureConfig(max_failures=0),
        ),
    )
    grid = tuner.fit()

    rows = []
    for result in grid:
        seed = int(result.config["seed"])
        metrics = result.metrics or {}
        finished = result.error is None and metrics.get("epoch") == train.epochs
        rows.append({
            "genotype_hash": genotype.key,
            "genotype": str(genotype),
            "genotype_json": genotype.to_json(),
            "space": genotype.space,
            "source_trials": list(target.source_trials),
            "knobs": json.dumps(target.knobs, sort_keys=True),
            "seed": seed,
            "status": "TERMINATED" if finished else "ERROR",
            **{k: metrics.get(k) for k in ("test_acc", "test_ce", "train_acc", "params", "macs",
                                           "wall_time_s")},
            "epochs": metrics.get("epoch"),
            "run_dir": join(runs_dir, run_name(genotype, seed)),
            "error": None if result.error is None else _one_line(result.error),
        })
    rows.sort(key=lambda r: r["seed"])
    table = write_retrain_table(path, rows)
    return {"experiment_dir": path, "genotypes": summarize(table), "runs": rows}


def _one_line(error: BaseException) -> str:
    cause = getattr(error, "cause", None) or error  # RayTaskError wraps the trial's own
    lines = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {lines[-1] if lines else ''}".rstrip(": ")


def write_retrain_table(experiment_dir: str, rows: list[dict]) -> list[dict]:
    """Rows of earlier retrains of other (genotype, seed) pairs are kept; these replace the
    same pairs. Written atomically; returns the whole table's rows."""
    target = join(experiment_dir, RETRAIN_FILE)
    fresh = {(r["genotype_hash"], r["seed"]) for r in rows}
    kept = [r for r in read_retrain_table(target) if (r["genotype_hash"], r["seed"]) not in fresh]
    table = pa.Table.from_pylist([{k: r.get(k) for k in RETRAIN_SCHEMA.names} for r in kept + rows],
                                 schema=RETRAIN_SCHEMA)
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    write_bytes(target, buffer.getvalue())
    return table.to_pylist()


def read_retrain_table(target: str) -> list[dict]:
    if "://" in target or not Path(target).exists():
        return []
    return pq.read_table(target).to_pylist()


def summarize(rows: list[dict]) -> list[dict]:
    """Per genotype: the final test accuracy's mean and (sample) std over finished seeds."""
    out = []
    for key in dict.fromkeys(r["genotype_hash"] for r in rows):
        mine = [r for r in rows if r["genotype_hash"] == key]
        done = [r for r in mine if r["status"] == "TERMINATED"]
        accs = [r["test_acc"] for r in done]
        out.append({
            "genotype_hash": key,
            "genotype": mine[0]["genotype"],
            "seeds": len(mine),
            "finished": len(done),
            "test_acc_mean": statistics.fmean(accs) if accs else None,
            "test_acc_std": statistics.stdev(accs) if len(accs) > 1 else (0.0 if accs else None),
            "params": done[0]["params"] if done else None,
            "macs": done[0]["macs"] if done else None,
        })
    return out
