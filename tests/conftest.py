"""Shared fixtures. Integration tests share one local Ray instance (dashboard on, as Train V2
needs it to release finished workers); unit tests never start Ray."""

import os
import signal

import pytest


def pytest_configure(config):
    """Test tensors are tiny: a second intra-op thread buys nothing, and on a loaded 2-core
    machine OpenMP threads that spin-wait for each other made one tiny step 300x slower (seen
    here). Set in every process that runs tests; pytest-xdist's controller runs none, and
    importing torch there took CPU from its workers as they started."""
    if config.getoption("numprocesses", None) and "PYTEST_XDIST_WORKER" not in os.environ:
        return
    import torch

    torch.set_num_threads(1)


# The stop tests send SIGINT as a terminal does. A shell starts a background job with SIGINT
# ignored, Python then installs no KeyboardInterrupt handler, and the commands those tests
# start (exec'd children keep an ignored signal ignored) would ignore it too: handle it here,
# so that the suite behaves the same however it was launched.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

# Ray Train's controller polls its worker group every 2 s by default, and a run waits on
# several polls (the group started, each report, the end). The tests' runs are seconds
# long: at 0.5 s a warm 2-worker 4-epoch search took 21.5 s instead of 25.3 s here (mean of
# two each). Set before any Ray instance starts, so that every node and driver inherits it.
os.environ.setdefault("RAY_TRAIN_HEALTH_CHECK_INTERVAL_S", "0.5")
# Each worker group of a run also gets a PreemptionWatcher actor: one more process that spends
# seconds of CPU importing Ray Train, to watch for node preemption, which never happens to
# the nodes of this machine. Ray Train passes the setting from the driver to its controller.
os.environ.setdefault("RAY_TRAIN_ENABLE_PREEMPTION_WATCHER", "0")


@pytest.fixture(scope="session")
def ray_session(tmp_path_factory):
    import ray

    from orchestrator.cluster.ray_runtime import ensure_ray

    os.environ.setdefault("RAY_TRAIN_V2_ENABLED", "1")
    ensure_ray(num_cpus=2)
    yield ray
    ray.shutdown()
