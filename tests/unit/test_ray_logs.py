"""Ray's notices that need no action stay off the console, every other line reaches it: the
filter on the lines as Ray forwards them (the two notices verbatim as a run printed them),
and, in a fresh process, through Ray's own deduplicator, as importing the package sets it."""

import json
import os
import subprocess
import sys

from orchestrator.cluster.ray_logs import SKIP_VARIABLE, skip_pattern

#: as the console showed them (prefix "(TrainController pid=...)" / "(raylet)" aside)
WATCHER = ("[2026-12-04 07:45:41,856 E 3795 3911] core_worker.cc:2465: Actor with class name: "
           "'PreemptionWatcher' and ID: '8813612e33f1dd1204a87d9b01000000' has constructor "
           "arguments in the object store and max_restarts > 0. If the arguments in the object "
           "store go out of scope or are lost, the actor restart will fail. See "
           "https://github.com/ray-project/ray/issues/53727 for more details.")
STARTUP = ("WARNING: 8 PYTHON worker processes have been started on node: 0ac5346019946e1953 "
           "with address: 192.0.2.2, which is 4x the maximum expected startup concurrency (2). "
           "This could be a result of using a large number of actors, tasks blocked in ray.get")
#: lines that must still be printed: errors, tracebacks, the same warning of a user's actor
KEPT = [
    "Traceback (most recent call last):",
    "ValueError: loss is NaN at epoch 3",
    "[2026-12-04 07:45:41,856 E 3795 3911] core_worker.cc:2465: Actor with class name: 'Mine' "
    "and ID: 'ab' has constructor arguments in the object store and max_restarts > 0.",
    "WARNING: 8 PYTHON worker processes have been started on node: 0ac5 with address: 1.2.3.4",
    "(raylet) [2026-12-04] node_manager.cc: Worker killed due to memory pressure (OOM)",
]

DEDUP = """
import json, sys
import orchestrator  # sets the filter, as every command and trial imports it before Ray
from ray._private import ray_logging
batch = {"ip": "127.0.0.1", "pid": 42, "is_err": True, "lines": json.loads(sys.argv[1])}
print(json.dumps([line for out in ray_logging.stderr_deduplicator.deduplicate(batch)
                  for line in out["lines"]]))
"""


def test_the_two_notices_match_and_nothing_else():
    import re

    pattern = re.compile(skip_pattern())
    assert pattern.search(WATCHER) and pattern.search(STARTUP)
    assert [line for line in KEPT if pattern.search(line)] == []


def test_a_users_own_pattern_is_kept_and_setting_it_twice_changes_nothing():
    joined = skip_pattern("my noise")
    assert joined.startswith("(?:my noise)|") and skip_pattern(joined) == joined
    assert skip_pattern(skip_pattern()) == skip_pattern()


def test_rays_deduplicator_drops_the_notices_in_a_fresh_process():
    env = {k: v for k, v in os.environ.items() if k != SKIP_VARIABLE}
    lines = [WATCHER, STARTUP, *KEPT]
    done = subprocess.run([sys.executable, "-c", DEDUP, json.dumps(lines)], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == KEPT
