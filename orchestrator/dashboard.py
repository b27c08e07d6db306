"""`alphadarts dashboard`: TensorBoard and optuna-dashboard on one experiment directory.

Both run as child processes, each in its own process group (TensorBoard may start helpers),
bound to `host` (localhost by default) on free ports or the given ones. `Dashboards.start()`
returns once both answer HTTP; `stop()` ends both groups (SIGTERM, then SIGKILL), so nothing
outlives the command. What each serves:
  - TensorBoard, `--logdir` the experiment directory: Tune writes one event file per trial
    (`trial_<id>/events.out.tfevents.*`): the epoch metrics as scalars and, when a trial ends,
    its HParams (knobs -> last metrics);
  - optuna-dashboard on the sweep's study (`sqlite:///<dir>/optuna.db`): history, parameter
    importance, slice and contour plots.
Any directory of an experiment (a sweep's, a retrain's, a pipeline's: orchestrator.
experiment_dirs) stands for the whole of it: TensorBoard shows its sweep's and its retrain's
runs together (as run groups "sweep/" and "retrain/"), optuna-dashboard its sweep's study; a
retrain made from no sweep gets TensorBoard alone.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from orchestrator.errors import RunFailed, UsageError

STUDY_FILE = "optuna.db"
PIPELINE_SUFFIX, SWEEP_SUFFIX = "-pipeline", "-sweep"
#: what each server answers once it is ready (also what the tests fetch)
READY_PATHS = {"tensorboard": "/data/plugins_listing", "optuna-dashboard": "/api/studies"}
START_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class Target:
    """What to serve: the directories TensorBoard reads (by name: "sweep", "retrain") and the
    study optuna-dashboard opens."""

    logdirs: dict[str, Path]
    study_db: Path | None
    asked: str                 # the directory or URI as given
    kind: str = "sweep"

    @property
    def logdir(self) -> Path:
        """The one directory TensorBoard reads, or the first of several."""
        return next(iter(self.logdirs.values()))


#: what `snapshot` copies from an experiment directory in an object store: what TensorBoard
#: and optuna-dashboard read (not the checkpoints, which can be gigabytes)
SNAPSHOT_FILES = ("optuna.db", "*.parquet", "*/events.out.tfevents.*")


def snapshot(uri: str, cache: Path | None = None) -> Path:
    """A local copy of the viewable files of an experiment directory at `uri` (s3://, gs://,
    file://), for servers that read local files; a pipeline's URI stands for its sweep, as
    a local one does. Copied once per call: run the command again to see newer results."""
    from fnmatch import fnmatch

    from orchestrator.cluster.storage import is_dir, list_files, read_bytes

    scheme, _, rest = uri.partition("://")
    name = rest.rstrip("/").rsplit("/", 1)[-1]
    if name.endswith(PIPELINE_SUFFIX):
        uri = uri.rstrip("/")[: -len(PIPELINE_SUFFIX)] + SWEEP_SUFFIX
        rest = uri.partition("://")[2]
    if not is_dir(uri):
        raise UsageError(f"EXPERIMENT_DIR {uri!r}: nothing there; give a sweep's, a pipeline's or "
                         "a retrain's directory (e.g. s3://BUCKET/alphadarts/NAME-sweep)")
    root = (cache or Path("~/.cache/alphadarts/snapshots").expanduser()) / scheme / rest.strip("/")
    for relative in list_files(uri):
        if any(fnmatch(relative, pattern) for pattern in SNAPSHOT_FILES):
            target = root / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(read_bytes(f"{uri.rstrip('/')}/{relative}"))
    root.mkdir(parents=True, exist_ok=True)
    return root


def resolve_target(directory: str, cache: Path | None = None) -> Target:
    """The experiment `directory` belongs to (any of its directories: orchestrator.
    experiment_dirs): its sweep's and its retrain's event files, its sweep's study. A URI's
    parts are served from local copies (`snapshot`)."""
    from orchestrator.tables.experiment_dirs import find_experiment

    remote = "://" in directory
    if not remote and not Path(directory).expanduser().is_dir():
        raise UsageError(f"EXPERIMENT_DIR {directory!r}: no such directory; give a sweep's "
                         "(runs/<name>-sweep), a pipeline's or a retrain's directory")
    try:
        experiment = find_experiment(directory)
    except UsageError:  # no experiment of ours, but TensorBoard's files (a Tune run): served alone
        local = Path(directory).expanduser()
        if remote or not any(local.glob("*/events.out.tfevents.*")):
            raise
        return Target({"tensorboard": local.resolve()}, None, directory, "directory")
    parts = {kind: getattr(experiment, kind) for kind in ("sweep", "retrain") if getattr(experiment, kind)}
    if not parts:
        raise UsageError(f"EXPERIMENT_DIR {directory!r}: {experiment.short()}, but neither its sweep nor "
                         "its retrain exists yet (they start with the pipeline's stages)")
    logdirs = {kind: snapshot(path, cache) if remote else Path(path).expanduser().resolve()
               for kind, path in parts.items()}
    db = logdirs["sweep"] / STUDY_FILE if "sweep" in logdirs else None
    has_events = any(any(path.glob("*/events.out.tfevents.*")) for path in logdirs.values())
    if (db is None or not db.is_file()) and not has_events:
        raise UsageError(f"EXPERIMENT_DIR {directory!r}: holds neither {STUDY_FILE} nor TensorBoard "
                         "event files (trial_*/events.out.tfevents.*); give a sweep's, a pipeline's "
                         "or a retrain's directory")
    return Target(logdirs, db if db is not None and db.is_file() else None, directory, experiment.kind)


def logdir_arguments(logdirs: dict[str, Path], links: Path) -> list[str]:
    """TensorBoard's flags for one directory (`--logdir`) or several, each a group of runs
    named after its part ("sweep/trial_...", "retrain/trial_..."): `--logdir_spec`, which
    splits on commas; a path holding one is linked under `links` instead."""
    if len(logdirs) == 1:
        return ["--logdir", str(next(iter(logdirs.values())))]
    if not any("," in str(path) for path in logdirs.values()):
        return ["--logdir_spec", ",".join(f"{name}:{path}" for name, path in logdirs.items())]
    links.mkdir(parents=True, exist_ok=True)
    for name, path in logdirs.items():
        (links / name).symlink_to(path, target_is_directory=True)
    return ["--logdir", str(links)]


def check_port(value: int | None, flag: str, host: str) -> int:
    """`value` if it is free on `host`, else a free one when `value` is None; UsageError when
    the given port is out of range or taken."""
    if value is not None and not 1 <= value <= 65535:
        raise UsageError(f"{flag} {value}: a port is 1..65535 (omit it to take a free one)")
    try:
        with socket.socket() as s:
            s.bind((host, value or 0))
            return s.getsockname()[1]
    except socket.gaierror:
        raise UsageError(f"--host {host!r}: not an address of this machine (e.g. 127.0.0.1)") from None
    except OSError as exc:
        if value is None:
            raise UsageError(f"--host {host!r}: cannot listen there ({exc.strerror})") from None
        raise UsageError(f"{flag} {value}: in use on {host} (or not allowed); choose another "
                         "port or omit it to take a free one") from None


def _script(name: str) -> str:
    """A console script of this environment (next to its Python), else from PATH."""
    local = Path(sys.executable).with_name(name)
    return str(local) if local.exists() else (shutil.which(name) or name)


@dataclass
class Dashboards:
    target: Target
    host: str = "127.0.0.1"
    tensorboard_port: int | None = None
    optuna_port: int | None = None
    urls: dict[str, str] = field(default_factory=dict)
    _procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    _logs: Path | None = None

    def commands(self) -> dict[str, list[str]]:
        tb_port = check_port(self.tensorboard_port, "--tensorboard-port", self.host)
        if self._logs is None:
            self._logs = Path(tempfile.mkdtemp(prefix="alphadarts-dashboard-"))
        commands = {"tensorboard": [sys.executable, "-m", "tensorboard.main",
                                    *logdir_arguments(self.target.logdirs, self._logs / "logdirs"),
                                    "--host", self.host, "--port", str(tb_port), "--load_fast=false"]}
        self.urls["tensorboard"] = f"http://{self.host}:{tb_port}/"
        if self.target.study_db is not None:
            op_port = check_port(self.optuna_port, "--optuna-port", self.host)
            if op_port == tb_port:
                raise UsageError(f"--optuna-port {op_port}: the same as --tensorboard-port")
            commands["optuna-dashboard"] = [
                _script("optuna-dashboard"), f"sqlite:///{self.target.study_db}",
                "--host", self.host, "--port", str(op_port), "--quiet"]
            self.urls["optuna-dashboard"] = f"http://{self.host}:{op_port}/"
        return commands

    def start(self, timeout_s: float = START_TIMEOUT_S) -> dict[str, str]:
        """Start both and wait until both answer HTTP; RunFailed (both stopped) otherwise."""
        try:
            commands = self.commands()
            for name, command in commands.items():
                with open(self._logs / f"{name}.log", "wb") as log:
                    self._procs[name] = subprocess.Popen(
                        command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                        start_new_session=True,  # its own group: stopped as a whole, no orphans
                    )
            self._wait_ready(timeout_s)
        except BaseException:
            self.stop()
            raise
        return dict(self.urls)

    def _wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        waiting = dict(self._procs)
        while waiting:
            for name in list(waiting):
                if waiting[name].poll() is not None:
                    raise RunFailed(f"{name} exited with code {waiting[name].returncode} before it "
                                    f"answered: {self.log_tail(name)}")
                if answers(self.urls[name].rstrip("/") + READY_PATHS[name]):
                    del waiting[name]
            if waiting and time.monotonic() > deadline:
                raise RunFailed(f"{', '.join(waiting)} did not answer within {timeout_s:.0f} s: "
                                + " | ".join(self.log_tail(n) for n in waiting))
            time.sleep(0.25)

    def dead(self) -> list[str]:
        return [name for name, proc in self._procs.items() if proc.poll() is not None]

    def log_tail(self, name: str, lines: int = 3) -> str:
        path = self._logs / f"{name}.log" if self._logs else None
        if path is None or not path.is_file():
            return "(no log)"
        text = path.read_text(errors="replace").strip().splitlines()
        return " / ".join(text[-lines:]) or "(empty log)"

    def stop(self, grace_s: float = 10.0) -> None:
        """SIGTERM to each child's process group, SIGKILL to what is left after `grace_s`."""
        for proc in self._procs.values():
            _signal_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        for proc in self._procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            _signal_group(proc, signal.SIGKILL)  # helpers left in the group, if any
            proc.wait()
        self._procs.clear()
        if self._logs is not None:
            shutil.rmtree(self._logs, ignore_errors=True)
            self._logs = None

    @property
    def pids(self) -> dict[str, int]:
        return {name: proc.pid for name, proc in self._procs.items()}


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)  # start_new_session: the group id is the child's pid
    except (ProcessLookupError, PermissionError):
        pass


def answers(url: str, timeout_s: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def ray_dashboard_url() -> str | None:
    """The Ray dashboard of the cluster this process is connected to, or of $RAY_ADDRESS;
    None when there is none (a local sweep's Ray ends with the sweep)."""
    ray = sys.modules.get("ray")
    if ray is not None and ray.is_initialized():
        url = _dashboard_url_of_connected(ray)
        return url and (url if "://" in url else f"http://{url}")
    address = os.environ.get("RAY_ADDRESS")
    if not address:
        return None
    try:
        import logging

        import ray

        context = ray.init(address=address, logging_level=logging.ERROR, log_to_driver=False)
        url = context.dashboard_url
        ray.shutdown()
    except Exception:  # noqa: BLE001 - a cluster that cannot be reached: say so, go on
        return f"unreachable at RAY_ADDRESS={address}"
    return url and (url if "://" in url else f"http://{url}")


def _dashboard_url_of_connected(ray) -> str | None:
    try:
        from ray._private.worker import get_dashboard_url

        return get_dashboard_url() or None
    except Exception:  # noqa: BLE001 - private API moved: no URL rather than a crash
        return None
