"""A run's checkpoints in its own directory, for loops that run outside Ray Train (a
single-worker loop in a Tune trial: `orchestrator.stages.in_trial`):
`<run_dir>/checkpoint_<epoch>/state.pt`, the newest `keep` kept.

The same layout and semantics as a Train run's checkpoints, so a trial's `run_dir` means the
same whichever way it ran: a trial started again under the same run directory (a resumed
sweep, a retried trial, a rerun retrain) continues from the newest complete checkpoint.
A checkpoint folder appears by one rename once its state file is whole, so a crash mid-write
leaves a hidden temp folder, never a checkpoint that cannot be loaded.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from trainables.checkpoint import STATE_FILE, load_state, save_state

PREFIX = "checkpoint_"


class RunDirCheckpoints:
    def __init__(self, run_dir: str | Path, keep: int):
        if "://" in str(run_dir):
            raise ValueError(f"run_dir={run_dir!r}: a trial's own checkpoints need a local or NFS path")
        self.run_dir, self.keep = Path(run_dir), keep

    def save(self, epoch: int, state: dict) -> str:
        """Write epoch `epoch`'s state as a checkpoint; drop all but the newest `keep`."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        target = self.run_dir / f"{PREFIX}{epoch:06d}"
        staging = Path(tempfile.mkdtemp(dir=self.run_dir, prefix=f".{target.name}."))
        try:
            save_state(staging / STATE_FILE, state)
            if target.exists():  # the same epoch again (a trial retried after a lost report)
                shutil.rmtree(target)
            staging.rename(target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        for old in self.checkpoints()[: -self.keep]:
            shutil.rmtree(old, ignore_errors=True)
        return str(target)

    def checkpoints(self) -> list[Path]:
        """Complete checkpoints, oldest first."""
        if not self.run_dir.is_dir():
            return []
        return sorted(p for p in self.run_dir.glob(f"{PREFIX}*") if (p / STATE_FILE).is_file())

    def latest(self) -> Path | None:
        found = self.checkpoints()
        return found[-1] if found else None

    def latest_state(self) -> dict | None:
        latest = self.latest()
        return None if latest is None else load_state(latest / STATE_FILE)
