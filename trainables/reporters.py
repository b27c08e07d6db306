"""Reporters: where the search loop's per-epoch metrics and checkpoints go.

`RayTrainReporter` is what Ray Train workers use; `MemoryReporter` keeps everything in
memory, for tests and for callers that run the loop in-process.
"""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path
from typing import Protocol

from trainables.checkpoint import STATE_FILE, load_state, save_state
from trainables.metrics import for_tune


class Reporter(Protocol):
    """Where per-epoch metrics and checkpoints go (Ray Train, a directory, or a test's list),
    and the hook instrumentation listens on (`phase`)."""

    def report(self, metrics: dict, state: dict | None) -> None:
        """Called by every rank once per epoch; only rank 0 passes the checkpoint `state`."""

    def latest_state(self) -> dict | None:
        """The last checkpoint's state, to resume from, or None for a fresh run."""

    def phase(self, name: str, **fields) -> None:
        """The loop reached a named point (`model_built`, `epoch_trained`, ...). Reporters
        ignore it; `trainables.phase_log.PhaseLogReporter` records when, for measuring
        where a run's time goes."""


class MemoryReporter(Reporter):
    """Keeps metrics and (deep-copied) checkpoint states; can start from a given state."""

    def __init__(self, resume_state: dict | None = None, stop_after_epochs: int | None = None):
        self.metrics: list[dict] = []
        self.states: list[dict] = []
        self._resume_state = resume_state
        self._stop_after = stop_after_epochs

    def report(self, metrics: dict, state: dict | None) -> None:
        self.metrics.append(dict(metrics))
        if state is not None:
            self.states.append(copy.deepcopy(state))
        if self._stop_after is not None and len(self.metrics) >= self._stop_after:
            raise StopSearch(len(self.metrics))

    def latest_state(self) -> dict | None:
        return self._resume_state


class StopSearch(Exception):
    """Raised by `MemoryReporter(stop_after_epochs=k)`: simulates an interrupted run."""


class RayTrainReporter(Reporter):
    """Forwards to `ray.train.report`; rank 0 attaches the checkpoint directory. Every report
    also says where it ran (`trainables.metrics.PLACEMENT_METRICS`): the node, and the epoch
    of the checkpoint this worker group resumed from."""

    def __init__(self) -> None:
        self.resumed_from_epoch = 0

    def report(self, metrics: dict, state: dict | None) -> None:
        import ray
        import ray.train

        node_id = ray.get_runtime_context().get_node_id()
        metrics = {**for_tune(metrics), "train_node_id": node_id, "train_node_ip": ray.util.get_node_ip_address(),
                   "resumed_from_epoch": self.resumed_from_epoch}
        if state is None:
            ray.train.report(metrics)
            return
        with tempfile.TemporaryDirectory(prefix="alphadarts-ckpt-") as tmp:
            save_state(Path(tmp) / STATE_FILE, state)
            ray.train.report(metrics, checkpoint=ray.train.Checkpoint.from_directory(tmp))

    def latest_state(self) -> dict | None:
        import ray.train

        checkpoint = ray.train.get_checkpoint()
        if checkpoint is None:
            return None
        with checkpoint.as_directory() as directory:
            state = load_state(Path(directory) / STATE_FILE)
        self.resumed_from_epoch = int(state.get("epoch", 0))
        return state
