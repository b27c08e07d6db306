"""Connecting to a Ray cluster, or starting a local one (dashboard on: Train V2 needs it to
release finished workers, see RAY.md)."""

from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)


def ensure_ray(address: str | None = None) -> None:
    import ray

    if ray.is_initialized():
        return
    address = address or os.environ.get("RAY_ADDRESS")
    if address:
        context = ray.init(address=address, logging_level=logging.WARNING)
    else:
        context = ray.init(include_dashboard=True, logging_level=logging.WARNING)
    log.info("Ray dashboard: http://%s", context.dashboard_url)


def add_address_argument(parser) -> None:
    parser.add_argument(
        "--address", default=None,
        help="Ray cluster address (default: $RAY_ADDRESS, else start a local Ray instance)",
    )
