"""Wall-clock marks of a run's phases, for measuring where a trial's time goes.

Off unless `ALPHADARTS_PHASE_LOG` names a file; then every process of the run (the sweep
driver, Tune's trial drivers, Train's workers: Ray starts them with the driver's
environment) appends one JSON line per mark: `{"t", "phase", "pid", ...}`. The search loop
knows nothing of it: it names its phases to its reporter (`Reporter.phase`), and
`PhaseLogReporter` around that reporter writes them down. Appends of one
short line are atomic on a local file system, so processes need no lock.
`orchestrator.bench.phases` turns the file into the per-trial breakdown in
docs/benchmarks.md.
"""

from __future__ import annotations

import json
import os
import time

ENV = "ALPHADARTS_PHASE_LOG"


def mark(phase: str, **fields) -> None:
    path = os.environ.get(ENV)
    if not path:
        return
    line = json.dumps({"t": time.time(), "phase": phase, "pid": os.getpid(), **fields})
    with open(path, "a") as f:
        f.write(line + "\n")


def enabled() -> bool:
    return bool(os.environ.get(ENV))


class PhaseLogReporter:
    """Passes everything on to `inner`; marks each phase the loop names, and each report's
    start and end (the checkpoint write and Ray's persisting are in between)."""

    def __init__(self, inner):
        self.inner = inner

    def phase(self, name: str, **fields) -> None:
        mark(name, **fields)
        self.inner.phase(name, **fields)

    def report(self, metrics: dict, state: dict | None) -> None:
        mark("report_start", epoch=metrics.get("epoch"))
        self.inner.report(metrics, state)
        mark("reported", epoch=metrics.get("epoch"))

    def latest_state(self) -> dict | None:
        return self.inner.latest_state()
