"""Where a trial's wall time goes: reads an `ALPHADARTS_PHASE_LOG` file (trainables.phase_log)
and prints one row per trial with the seconds spent in each phase, and their mean.

    ALPHADARTS_PHASE_LOG=/tmp/phases.jsonl alphadarts sweep quickstart
    python -m orchestrator.bench.phases /tmp/phases.jsonl

Phases (the marks that bound them; `end` comes from the sweep driver's Tune callback
`orchestrator.stages.phase_marks.callbacks()`, the rest from the trial's own processes):
  start        trial_start -> search_start: the Tune trial driver to the first line of the
               search loop (with Ray Train: the TorchTrainer's controller, the worker group's
               placement group and actors, their imports, the process group)
  model        search_start -> model_built: supernet, decoder, optimisers
  data         model_built -> data_ready: dataset load/transform, splits, loaders
  resume       data_ready -> resume_checked: the checkpoint lookup (and load, on a resume)
  train        epoch steps (α + weights), summed over epochs
  evaluate     clean-BN re-estimate + α-split evaluation, summed
  report       metrics, checkpoint write and `report` (Ray's persisting), summed
  end          the last report -> Tune has the trial complete (its teardown; a trial that
               ASHA stopped ends at its last report)
  total        Tune starts the trial -> Tune has it complete

Tune calls `on_trial_start` once the trial's actor is up, so the actor's own start (a new
process importing torch and the project) is not in `total`; `main` prints it for the first
trials: the sweep's `tuner_fit` mark -> their trial_start.
"""

from __future__ import annotations

import json
import statistics
import sys
from collections import defaultdict

PHASES = ("start", "model", "data", "resume", "train", "evaluate", "report", "end", "total")


def breakdown(lines: list[dict]) -> dict[str, dict[str, float]]:
    """{run: {phase: seconds}} for every trial that started. A mark without a run belongs to
    the run its process last marked (a reused trial process runs several in turn)."""
    marks, current = defaultdict(list), {}
    for m in sorted(lines, key=lambda m: m["t"]):
        if "run" in m and not m["phase"].startswith("tune_"):
            current[m["pid"]] = m["run"]
        run = m.get("run") or current.get(m["pid"])
        if run is not None:
            marks[run].append(m)
    out = {}
    for run, ms in marks.items():
        first, last_t = {}, max(m["t"] for m in ms)
        for m in ms:
            first.setdefault((m["phase"], m.get("epoch")), m["t"])
        if not all((phase, None) in first for phase in ("trial_start", "search_start", "resume_checked")):
            continue  # not started yet (or the log ends before its search did)
        # Without the driver's marks (a run without the callback), the trial's own process
        # bounds it: its trial_end, else (stopped by ASHA) its last mark.
        began = first.get(("tune_trial_start", None), first[("trial_start", None)])
        ended = first.get(("tune_trial_complete", None), first.get(("trial_end", None), last_t))
        epochs = sorted({e for (_, e) in first if e is not None})
        row = {
            "start": first[("search_start", None)] - first[("trial_start", None)],
            "model": first[("model_built", None)] - first[("search_start", None)],
            "data": first[("data_ready", None)] - first[("model_built", None)],
            "resume": first[("resume_checked", None)] - first[("data_ready", None)],
            "train": 0.0, "evaluate": 0.0, "report": 0.0,
        }
        previous = first[("resume_checked", None)]
        for e in epochs:  # a trial stopped at a report (ASHA, or its last epoch) has no
            for phase, column in (("epoch_trained", "train"), ("epoch_evaluated", "evaluate"),
                                  ("reported", "report")):  # `reported` mark: `end` holds it
                if (phase, e) not in first:
                    break
                row[column] += first[(phase, e)] - previous
                previous = first[(phase, e)]
        row["end"] = ended - previous
        row["total"] = ended - began
        row["epochs"] = len(epochs)
        out[run] = row
    return out


def main(argv: list[str]) -> int:
    lines = [json.loads(line) for line in open(argv[0]) if line.strip()]
    rows = breakdown(lines)
    print("| trial | epochs | " + " | ".join(PHASES) + " |")
    print("|---" * (len(PHASES) + 2) + "|")
    for run, row in rows.items():
        print(f"| {run} | {row['epochs']} | " + " | ".join(f"{row[p]:.1f}" for p in PHASES) + " |")
    if rows:
        means = {p: statistics.mean(r[p] for r in rows.values()) for p in PHASES}
        print("| mean | | " + " | ".join(f"{means[p]:.1f}" for p in PHASES) + " |")
    fits = [m["t"] for m in lines if m["phase"] == "tuner_fit"]
    starts = sorted(m["t"] for m in lines if m["phase"] == "trial_start")
    if fits and starts:
        print(f"\nfirst trial's actor start (tuner.fit -> its trial_start): {starts[0] - fits[0]:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
