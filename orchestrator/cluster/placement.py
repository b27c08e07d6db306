"""Running on a Ray cluster of several nodes: the storage every node must see, and where a
stage's driver runs when the command line is on a laptop.

Storage: Tune, Train checkpoints and the result tables are written by processes on every
node, and a resumed trial reads its checkpoint on whichever node it lands; a path on one
node's disk is then missing on the others. So on a multi-node cluster a local `output_dir`
is refused unless `cluster.shared_filesystem` says it is a mount every node shares.

Ray Client (`--address ray://...`): the `alphadarts` process on the laptop would hold Tune's
controller and write the tables and the Optuna study on the laptop's disk, while the trials
run in the cluster. Instead the whole stage runs as one task on the cluster's head node,
where `ray job submit` would run it, and only its summary comes back; the task's output is
streamed to the laptop by the client. The run is tied to the laptop's connection: when it
drops for good (Ctrl+C, sleep), Ray ends the task. `ray job submit` does not have that tie.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

from orchestrator.errors import UsageError
from orchestrator.cluster.storage import is_uri

log = logging.getLogger(__name__)

#: Ray's marker resource of the head node (every Ray node list shows it on the head only).
HEAD_MARKER = "node:__internal_head__"


def storage_problem(output_dir: str, nodes: int, shared_filesystem: bool,
                    driver_resource: str | None) -> str | None:
    """Why `output_dir` cannot hold a run on this cluster, in one line; None when it can.

    A cluster counts as multi-node when more than one node is alive now, or when the config
    names a driver resource (cluster.yaml's layout: drivers on the head, Train workers on
    other nodes that the autoscaler may not have started yet)."""
    if is_uri(output_dir) or shared_filesystem:
        return None
    if nodes <= 1 and not driver_resource:
        return None
    why = f"the cluster has {nodes} nodes" if nodes > 1 else \
        f"cluster.driver_resource={driver_resource!r} puts trials on several nodes"
    return (
        f"output_dir={output_dir!r} is a local path and {why}: use s3://, gs:// or an NFS path "
        "mounted on every node (then also --set cluster.shared_filesystem=true)"
    )


def check_storage(config) -> None:
    """`storage_problem` for the cluster Ray is connected to; UsageError (exit 2) if any."""
    import ray

    nodes = sum(1 for node in ray.nodes() if node.get("Alive"))
    problem = storage_problem(config.output_dir, nodes, config.cluster.shared_filesystem,
                              config.cluster.driver_resource)
    if problem:
        raise UsageError(problem)


def is_client_address(address: str | None) -> bool:
    return (address or os.environ.get("RAY_ADDRESS") or "").startswith("ray://")


def run_stage(stage: Callable[..., dict], config, address: str | None = None, **kwargs) -> dict:
    """`stage(config, address=address, **kwargs)` here, or, for a `ray://` address, as one
    task on the cluster's head node (see the module's docstring). Errors raised there are
    raised here as themselves: a UsageError still exits 2 with its one line."""
    if not is_client_address(address):
        return stage(config, address=address, **kwargs)
    import ray
    from ray.exceptions import RayTaskError
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    from orchestrator.cluster.ray_runtime import check_address_reachable, connect

    check_address_reachable(address or os.environ["RAY_ADDRESS"])  # in seconds, not on the GCS' time
    connect(address or os.environ["RAY_ADDRESS"])
    head = next((n["NodeID"] for n in ray.nodes() if n.get("Alive") and HEAD_MARKER in n["Resources"]),
                None)
    if head is None:
        raise UsageError(f"--address {address!r}: the cluster reports no live head node")
    remote = ray.remote(num_cpus=0, max_retries=0)(_stage_on_head).options(
        scheduling_strategy=NodeAffinitySchedulingStrategy(node_id=head, soft=False))
    log.info("running the stage on the head node %s through Ray Client", head)
    try:
        return ray.get(remote.remote(stage, config, kwargs))
    except RayTaskError as exc:
        cause = getattr(exc, "cause", None)
        if isinstance(cause, BaseException):
            raise cause from None
        raise


def _stage_on_head(stage: Callable[..., dict], config, kwargs: dict) -> dict:
    """On the head, inside the cluster: Ray is initialised (this is a Ray task), so the
    stage's own `ensure_ray` connects to nothing new."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return stage(config, address=None, **kwargs)
