"""The one door every stage (search, sweep, retrain, pipeline) passes, in the same order.

Before Ray starts, in seconds: the run directory belongs to this config (a directory of
another config is refused), the resources the stage's runs ask for fit this machine (on a
local Ray), the data is where the config says, the stage's own rules hold, tracking can be
reached. Then the directory's lock is taken (a second command on it is refused), Ray is
started or joined, storage every node must see and the cluster's resources are checked, and
one line announces the stage's start and end with the command that shows it.

A pipeline checks its own door and its stages' doors once, before any of them runs, and
then runs each stage with `checked=True`, so no check is made twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from orchestrator.cluster.resources import check_cluster_resources, check_resources, starts_local_ray
from orchestrator.cluster.run_identity import check_run_dir, record_run_dir
from orchestrator.cluster.run_lock import exclusive
from orchestrator.stages.tracking import check_tracking


@dataclass(frozen=True)
class StageDoor:
    kind: str  # "search", "sweep", "retrain" or "pipeline": what its directory holds
    path: str  # the stage's run directory (a local path or a URI)
    config: object  # the ExperimentConfig the directory is bound to
    #: (runtime, its config field) for each kind of run the stage starts
    runtimes: tuple = ()
    #: data sources its runs read (checked where they will be read, when that is this machine)
    data: tuple = ()
    #: the stage's own rules, checked before Ray starts (e.g. the sweep's objective needs a proxy)
    rules: Callable[[str | None], None] | None = None
    #: CPUs held by each trial's driver besides the runs' workers (Tune stages)
    driver_cpu: float = 0.0
    dumped: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "dumped", self.config.model_dump(mode="json"))

    def check(self, address: str | None, restart: bool = False) -> bool:
        """Every check that needs no Ray; True when the directory holds an earlier run of
        this config (to resume)."""
        from trainables.data import check_data_source

        earlier = check_run_dir(self.path, self.dumped, self.kind, restart)
        for runtime, section in self.runtimes:
            check_resources(runtime, section, address, self.driver_cpu)
        for source in self.data:
            check_data_source(source, on_this_machine=starts_local_ray(address))
        if self.rules is not None:
            self.rules(address)
        check_tracking(self.config.tracking)
        return earlier

    @contextmanager
    def held(self) -> Iterator[None]:
        """The directory's lock for the stage's whole run (a second command is refused)."""
        with exclusive(self.path):
            yield

    def record(self, restart: bool = False) -> None:
        """Bind the directory to this config (once the lock is held; `restart` moves the
        earlier run aside first). A sweep's directory is Tune's: the sweep records itself."""
        record_run_dir(self.path, self.dumped, self.kind, restart)

    def start_ray(self, address: str | None, resource_wait: float) -> None:
        """Start or join Ray; then what needs the cluster: shared storage, resources."""
        from orchestrator.cluster.placement import check_storage
        from orchestrator.cluster.ray_runtime import ensure_ray

        ensure_ray(address)
        check_storage(self.config)
        for runtime, section in self.runtimes:
            check_cluster_resources(runtime, section, resource_wait, self.driver_cpu)

    def announce(self, when: str) -> None:
        from orchestrator.console import announce

        announce(self.kind, self.path, when)
