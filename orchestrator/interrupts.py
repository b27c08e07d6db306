"""Ctrl+C (SIGINT) and SIGTERM of a running command: one line, the right exit code, no dumps.

What a stop looked like before: Ray's `ray.init` replaces Python's SIGTERM handler with
`sys.exit(15)`, and its core worker (C++) installs a native one that prints
"*** SIGTERM received ..." with a stack trace and aborts the driver, leaving the local Ray's
processes behind. Here instead:

  - `install()` puts our SIGTERM handler back (at start and again after `ray.init`). It
    turns SIGTERM into what SIGINT does at that moment: inside `Tuner.fit` Tune's graceful
    stop (it saves the experiment state), inside `TorchTrainer.fit` Train's graceful abort,
    elsewhere a KeyboardInterrupt. Both signals thus take the same, tested path.
  - The stage that was running turns the stop into `Interrupted(where=...)`: the search
    names the last checkpointed epoch, a sweep or a retrain how many trials finished.
  - The CLI shuts Ray down (which ends the local Ray it started), prints one line with
    where it stopped and the exact command that resumes it, and exits 130 (SIGINT) or
    143 (SIGTERM), as a shell reports a process those signals ended.
"""

from __future__ import annotations

import shlex
import signal
import threading

#: exit code per stop signal: 128 + the signal number, the shell's convention
EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}

_received: int | None = None


class Interrupted(Exception):
    """A command stopped by SIGINT or SIGTERM. `where` says how far it got ("after epoch 2
    of 4 (checkpoint ...)"); `resume_flags` are flags the resume command needs on top of
    the command line that was run (a sweep's `--resume`)."""

    def __init__(self, where: str, resume_flags: tuple[str, ...] = ()):
        super().__init__(where)
        self.where, self.resume_flags = where, tuple(resume_flags)
        self.signal = received() or signal.SIGINT

    @property
    def exit_code(self) -> int:
        return EXIT_CODES.get(self.signal, 130)

    def line(self, argv: list[str]) -> str:
        """The one line the user reads: which signal, where the run stopped, how to resume."""
        name = signal.Signals(self.signal).name
        return f"alphadarts: {name} received; stopped {self.where}. Resume with: {resume_command(argv, self.resume_flags)}"


def resume_command(argv: list[str], flags: tuple[str, ...] = ()) -> str:
    """`alphadarts` + the same arguments (+ `flags` not given already), quoted for a shell.
    `--restart` is left out: given again, it would move aside the run it should continue."""
    kept = [a for a in argv if a != "--restart"]
    return shlex.join(["alphadarts", *kept, *(f for f in flags if f not in kept)])


def install() -> None:
    """Route SIGTERM through `_on_sigterm`. Safe to call again (after `ray.init`, which
    replaces the handler); a no-op outside the main thread, where handlers cannot be set."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _on_sigterm)


def reset() -> None:
    """Forget a received signal (tests run several commands in one process)."""
    global _received
    _received = None


def received() -> int | None:
    """The stop signal this command received, if any (SIGINT is recorded when it surfaces as
    a KeyboardInterrupt or through `note_sigint`; Tune and Train handle it themselves)."""
    return _received


def note_sigint() -> None:
    """Record a SIGINT that Tune or Train handled (unless a SIGTERM is what caused it)."""
    global _received
    _received = _received or signal.SIGINT


def _on_sigterm(signum, frame) -> None:
    global _received
    _received = signal.SIGTERM
    handler = signal.getsignal(signal.SIGINT)
    if callable(handler) and handler is not signal.default_int_handler:
        handler(signal.SIGINT, frame)  # Tune's or Train's graceful stop
        return
    raise KeyboardInterrupt
