"""The `cluster:` section: what a run must know about the Ray cluster it runs on.

Both settings are off on a laptop and on one machine; cluster.yaml's README walk-through
turns them on.
"""

from __future__ import annotations

from pydantic import Field

from trainables.config import StrictModel


class ClusterConfig(StrictModel):
    driver_resource: str | None = Field(
        None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="custom Ray resource every trial driver requests (1 unit each), so that "
                    "drivers run only on the nodes that offer it: cluster.yaml gives the "
                    "(on-demand) head `driver: 100` and the spot GPU workers none, so losing a "
                    "spot node loses Train workers, never a driver. None: drivers go anywhere",
    )
    shared_filesystem: bool = Field(
        False,
        description="output_dir is a local path that every node of the cluster sees (an NFS "
                    "mount, or several Ray nodes on one machine): allow it on a multi-node "
                    "cluster, where a plain local path is refused",
    )
