"""The doctor's searches through Ray Train: a real `TorchTrainer` run on the project's own
search path (`orchestrator.stages.search_run.run_search_on_ray`), 2 quickstart-size epochs on the
device, and with 2 GPUs or more a 2-worker NCCL search with SyncBatchNorm under bf16, whose
α must be identical on both ranks after every epoch (each epoch report carries every rank's
α digest: `alpha_rank_digests`)."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

from orchestrator.config import ExperimentConfig

#: what the epoch report must hold finite for the run to pass
FINITE = ("weights_ce", "alpha_ce", "alpha_acc", "mim_loss", "alpha_entropy")


def check_ray_search(config: ExperimentConfig, address: str | None, label: str) -> dict:
    from orchestrator.stages.search_run import run_search_on_ray

    row = {"check": "ray", "order": config.search.order, "switch": label}
    started = time.perf_counter()
    try:
        summary = run_search_on_ray(config, address=address, restart=True)
    except Exception as exc:  # UsageError (storage, resources), RunFailed, Ray's own
        why = " ".join(str(exc).split())[:400] or type(exc).__name__
        if "output_dir" in why:
            why += " (pass --storage s3://BUCKET/doctor or a shared NFS path)"
        row.update(result="fail", why=f"{type(exc).__name__}: {why}", seconds=time.perf_counter() - started)
        return row
    history = _history(summary)
    last = summary["metrics"]
    problems = []
    if last.get("epoch") != config.search.epochs:
        problems.append(f"ended at epoch {last.get('epoch')} of {config.search.epochs}")
    for epoch in history:
        digests = epoch.get("alpha_rank_digests") or []
        if len(digests) != config.search.runtime.num_workers or len(set(digests)) != 1:
            problems.append(f"epoch {epoch.get('epoch')}: α digests per rank {digests}")
    bad = [k for k in FINITE if not math.isfinite(float(last.get(k, float("nan"))))]
    if bad:
        problems.append(f"non-finite {', '.join(bad)}")
    row.update(result="fail" if problems else "pass", why="; ".join(problems) or None,
               epochs=last.get("epoch"), images_per_s=last.get("images_per_s"),
               alpha_rank_digests=[e.get("alpha_rank_digests") for e in history],
               run_dir=summary["run_dir"], seconds=time.perf_counter() - started)
    return row


def _history(summary: dict) -> list[dict]:
    """Every epoch's report where the run directory is local, else the last one's."""
    path = Path(summary["run_dir"]) / "epochs.jsonl"
    if "://" not in summary["run_dir"] and path.is_file():
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [summary["metrics"]]
