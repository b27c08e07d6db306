"""Connecting to a Ray cluster, or starting a local one.

The dashboard stays on: Train V2's placement-group cleaner, which frees the workers of a
finished or stopped run, finds its cluster through the dashboard's state API (docs/ray-notes.md). On a
machine running several Ray instances that lookup is ambiguous, so the cluster's own
processes are told which one is theirs (RAY_ADDRESS / RAY_API_SERVER_ADDRESS).
"""

from __future__ import annotations

import logging
import os
import socket

log = logging.getLogger(__name__)


def ensure_ray(address: str | None = None, num_cpus: int | None = None) -> None:
    import ray

    if ray.is_initialized():
        return
    address = address or os.environ.get("RAY_ADDRESS")
    if address:
        check_address_reachable(address)
        context = connect(address, runtime_env={"env_vars": {"RAY_ADDRESS": address}})
    else:
        port = _free_port()
        # address="local": a new instance of our own. Left unset, Ray connects to the cluster
        # a `ray start` on this machine last recorded (/tmp/ray/ray_current_cluster), even one
        # of another user, whose shutdown then kills this run (seen here)
        context = ray.init(
            address="local", num_cpus=num_cpus, include_dashboard=True, dashboard_port=port,
            logging_level=logging.WARNING,
            runtime_env={"env_vars": {"RAY_API_SERVER_ADDRESS": f"http://127.0.0.1:{port}"}},
        )
    # ray.init replaced the SIGTERM handler (sys.exit, and a native one that dumps a stack
    # trace): put ours back, so that SIGTERM stops a command as SIGINT does
    from orchestrator import interrupts

    interrupts.install()
    log.info("Ray dashboard: http://%s", context.dashboard_url)


#: what Ray Client says when the server process its proxy started for this client died at once
CLIENT_SERVER_FAILED = "Starting Ray client server failed"


def connect(address: str, **init_kwargs):
    """`ray.init(address, **init_kwargs)`, tried twice for Ray Client. Its proxy forks one
    server process per client, and that fork can die at once ("Other threads are currently
    calling into gRPC, skipping fork() handlers", then ray.init raises ConnectionAbortedError;
    ray-project/ray#63202): a second connection gets a new server process. In the one case
    seen after this retry existed, the second process died too; the multi-node test runs its
    cluster with GRPC_ENABLE_FORK_SUPPORT=false instead, which users' clusters do not set."""
    import ray

    for attempt in (1, 2):
        try:
            return ray.init(address=address, logging_level=logging.WARNING, **init_kwargs)
        except (ConnectionError, RuntimeError) as exc:
            if attempt == 2 or CLIENT_SERVER_FAILED not in str(exc):
                raise
            log.warning("Ray Client could not start this client's server at %s; connecting once "
                        "more", address)
            ray.shutdown()


#: seconds to wait for a Ray head's port to answer before calling the address unreachable
CONNECT_TIMEOUT_S = 5.0


def check_address_reachable(address: str, timeout_s: float = CONNECT_TIMEOUT_S) -> None:
    """UsageError, in seconds, when nothing answers at a Ray address (`ray.init` would wait
    forever on "Failed to connect to GCS"). `auto` and `local` name no port: not checked."""
    from orchestrator.errors import UsageError

    if address in ("auto", "local"):
        return
    hostport = address.split("://", 1)[-1].rstrip("/")
    host, sep, port_text = hostport.rpartition(":")
    if not sep or not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise UsageError(f"Ray address {address!r} (--address or $RAY_ADDRESS): expected HOST:PORT (e.g. 10.0.0.5:6379, or "
                         "ray://HOST:10001 for Ray Client), or auto")
    host = host.strip("[]")  # [::1]:6379
    try:
        with socket.create_connection((host, int(port_text)), timeout=timeout_s):
            return
    except socket.gaierror:
        reason = "the host name does not resolve"
    except TimeoutError:
        reason = f"no answer within {timeout_s:g} s"
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
    raise UsageError(f"Ray address {address!r} (--address or $RAY_ADDRESS): cannot reach the Ray head at {host}:{port_text} "
                     f"({reason}); check that the cluster is up (`ray status` on the head) and "
                     "the port is open from here")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def add_address_argument(parser) -> None:
    parser.add_argument(
        "--address", default=None, metavar="ray://HOST:10001|auto|HOST:6379",
        help="the Ray cluster to run on: ray://... (Ray Client from a laptop: the stage runs "
             "on the cluster's head, tied to this connection), auto (on a cluster node); "
             "default: $RAY_ADDRESS (set inside `ray job submit`), else a local Ray instance",
    )
