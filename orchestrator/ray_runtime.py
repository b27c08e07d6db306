"""Connecting to a Ray cluster, or starting a local one.

The dashboard stays on: Train V2's placement-group cleaner, which frees the workers of a
finished or stopped run, finds its cluster through the dashboard's state API (RAY.md). On a
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
        context = ray.init(
            address=address, logging_level=logging.WARNING,
            runtime_env={"env_vars": {"RAY_ADDRESS": address}},
        )
    else:
        port = _free_port()
        context = ray.init(
            num_cpus=num_cpus, include_dashboard=True, dashboard_port=port,
            logging_level=logging.WARNING,
            runtime_env={"env_vars": {"RAY_API_SERVER_ADDRESS": f"http://127.0.0.1:{port}"}},
        )
    log.info("Ray dashboard: http://%s", context.dashboard_url)


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
