"""What a command says to the user outside Ray's own output: how much (-q / -v, set once by
the CLI) and, at the start and end of a stage, where its results are and how to watch them.

Torch-free and Ray-free on purpose: the CLI imports it for every command, and `alphadarts
dashboard` or `results` should not pay seconds of imports they never use. The progress
table and TensorBoard logger, which need Ray Tune, are in `orchestrator.stages.tune_output`.
"""

from __future__ import annotations

import shlex

#: set by the CLI's -q/-v: 0 = no progress table, 1 = the table, 2 = the table more often
_verbosity = 1


def set_verbosity(level: int) -> None:
    global _verbosity
    _verbosity = level


def verbosity() -> int:
    return _verbosity


def dashboard_command(directory: str) -> str:
    return f"alphadarts dashboard {shlex.quote(str(directory))}"


def announce(stage: str, directory: str, when: str) -> None:
    """One line at the start and at the end of a stage: where its results are and the
    command that shows them (TensorBoard + optuna-dashboard)."""
    if _verbosity <= 0 and when == "start":
        return
    print(f"{stage} {when}: {directory}  (watch it: {dashboard_command(directory)})", flush=True)
