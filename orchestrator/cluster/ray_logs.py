"""Which of Ray's own notices reach the console.

Ray forwards the lines its worker processes and the raylet write to the console of the
command, its internal notices among them. Two of those come with our runs, say nothing about
them and ask for nothing whoever runs them could do:

  - Ray Train's controller starts a PreemptionWatcher actor per worker group, with the
    workers' handles as constructor arguments and unlimited restarts, and Ray core then logs
    at ERROR that such an actor may fail to restart (ray-project/ray#53727): once per Ray
    Train run (a trial that does not run in Tune's process). The watcher is Train's own and
    stays on: on a cluster of spot nodes it notices a preemption.
  - The raylet warns when several times more worker processes start at once than the
    node's CPUs: each trial starts its own process, a Train controller, its workers and a
    synchronization actor together, by design, so a small machine sees it on most runs.

They are left out of the console by Ray's own filter for forwarded lines: its log
deduplicator drops the lines that match RAY_DEDUP_LOGS_SKIP_REGEX. They stay in the files Ray
writes them to, under the session's log directory (`/tmp/ray/session_latest/logs`: the
worker's `worker-*.err`, the raylet's `raylet.out`). Every other line, warnings and errors
included, is still printed. Ray reads the variable once, when `ray` is imported, so this
package sets it when it is imported (`orchestrator/__init__.py`), before any of its modules
imports Ray; a value the user set is kept, joined with ours. With RAY_DEDUP_LOGS=0 (no
deduplication) Ray applies no filter either, and the notices are printed.
"""

from __future__ import annotations

import os

#: Ray's setting: forwarded worker and raylet lines that match it are not printed
SKIP_VARIABLE = "RAY_DEDUP_LOGS_SKIP_REGEX"

#: the notices above, each matched on words of its own so no other line is caught
QUIET_NOTICES = (
    r"class name: 'PreemptionWatcher' .*has constructor arguments in the object store "
    r"and max_restarts > 0",
    r"PYTHON worker processes have been started on node: .* maximum expected startup "
    r"concurrency",
)


def skip_pattern(existing: str | None = None) -> str:
    """The regular expression for SKIP_VARIABLE: our notices, or'ed with `existing`."""
    ours = "|".join(f"(?:{notice})" for notice in QUIET_NOTICES)
    if not existing:
        return ours
    if ours in existing:  # set already, in this process or the one that started it
        return existing
    return f"(?:{existing})|{ours}"


def quiet_ray_notices() -> None:
    """Set SKIP_VARIABLE for the Ray this process will import (see the module's docstring)."""
    os.environ[SKIP_VARIABLE] = skip_pattern(os.environ.get(SKIP_VARIABLE))
