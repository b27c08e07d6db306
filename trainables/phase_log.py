"""Wall-clock marks of a run's phases, for measuring where a trial's time goes.

Off unless `ALPHADARTS_PHASE_LOG` names a file; then every process of the run (the sweep
driver, Tune's trial drivers, Train's workers: Ray starts them with the driver's
environment) appends one JSON line per mark: `{"t", "phase", "pid", ...}`. Appends of one
short line are atomic on a local file system, so processes need no lock.
`orchestrator.phase_report` turns the file into the per-trial breakdown in
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
