"""SIGINT and SIGTERM of search, sweep, retrain and pipeline: one line naming where the run
stopped and the command that resumes it, exit 130 / 143. Ray is stubbed at the call that
blocks while a stage runs (the Train run's `fit`, `run_sweep`, Tune's `Tuner`); the signal
is a real one, sent to this process, so the handlers on the path are the real ones."""

import os
import shlex
import signal
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from orchestrator import interrupts
from helpers import register_train_checkpoint, run_cli

SMALL = ["--set", "search.epochs=4", "--set", "search.data.subset=64"]


def _send(signum: int) -> None:
    """Deliver `signum` to this process and give Python the chance to run its handler."""
    os.kill(os.getpid(), signum)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # a blocking wait, as ray.get is: interruptible
        time.sleep(0.01)


def _last_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert lines, "nothing on stderr"
    return lines[-1]


def _resume_argv(line: str) -> list[str]:
    command = shlex.split(line.split("Resume with: ", 1)[1])
    assert command[0] == "alphadarts"
    return command[1:]


# --- search: a Ray Train run in the driver --------------------------------------------------

class _TrainLikeTrainer:
    """What `TorchTrainer.fit` does around its blocking wait: it installs a SIGINT handler
    that aborts the run and ends in `sys.exit(0)` (Ray 2.60's graceful abort), then blocks.
    This one first registers a checkpoint of epoch 2 as Ray Train would."""

    def __init__(self, run_dir: Path, signum: int):
        self.run_dir, self.signum = run_dir, signum

    def _register_sigint_handler(self, controller) -> None:
        signal.signal(signal.SIGINT, lambda *_: (_ for _ in ()).throw(SystemExit(0)))

    def fit(self):
        self._register_sigint_handler(None)
        register_train_checkpoint(self.run_dir, "checkpoint_2026-01-01_00-00-00.000000", epoch=2)
        _send(self.signum)
        raise AssertionError("the signal did not stop fit()")


@pytest.fixture
def stub_search(monkeypatch, tmp_path):
    import trainables.ray_search

    made = {}

    def build(config, storage_path, name, **_):
        made["trainer"] = _TrainLikeTrainer(Path(storage_path) / name, made["signal"])
        return made["trainer"]

    monkeypatch.setattr("orchestrator.cluster.ray_runtime.ensure_ray", lambda address=None: None)
    monkeypatch.setattr("orchestrator.stages.stage_door.check_cluster_resources", lambda *a, **k: None)
    monkeypatch.setattr("orchestrator.cluster.placement.check_storage", lambda config: None)
    monkeypatch.setattr(trainables.ray_search, "build_search_trainer", build)
    # the caller's SIGTERM handler: Python's default, whatever an earlier test in this
    # process left installed (the command must hand this one back)
    previous = signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # SIGINT as a terminal's foreground process has it (a shell starts background jobs with
    # SIGINT ignored, and Python then installs no KeyboardInterrupt handler)
    previous_sigint = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield made
    signal.signal(signal.SIGINT, previous_sigint)
    signal.signal(signal.SIGTERM, previous)


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_search_stopped_names_the_epoch_and_the_resume_command(stub_search, tmp_path, capsys, signum, code):
    stub_search["signal"] = signum
    argv = ["search", "quickstart", "--set", f"output_dir={tmp_path}/my runs", "--set", "name=q", *SMALL]
    exit_code, out, err = run_cli(capsys, *argv)
    line = _last_line(err)
    assert exit_code == code, err
    assert line.startswith(f"alphadarts: {signal.Signals(signum).name} received; stopped in epoch 3 of 4 ")
    assert f"epochs 1-2 are in checkpoint {tmp_path / 'my runs' / 'q' / 'checkpoint_2026-01-01'}" in line
    assert _resume_argv(line) == argv  # the same command, quoted for a shell ("my runs")
    assert "Traceback" not in err and out == ""
    # the SIGTERM handler is the caller's again once the command returned
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_search_stopped_before_its_first_checkpoint(monkeypatch, tmp_path, capsys):
    def slow_ray(address=None):
        _send(signal.SIGTERM)  # still starting Ray: nothing saved yet

    monkeypatch.setattr("orchestrator.cluster.ray_runtime.ensure_ray", slow_ray)
    argv = ["search", "quickstart", "--set", f"output_dir={tmp_path}", *SMALL]
    exit_code, _, err = run_cli(capsys, *argv)
    assert exit_code == 143
    assert "stopped in epoch 1 of 4, before the first checkpoint. Resume with: alphadarts search" in _last_line(err)


# --- sweep and pipeline: Ray Tune, which stops gracefully on SIGINT ---------------------------

def _signal_tunes_handler(signum: int) -> None:
    """What Tune's `fit` does with a stop signal: install its own SIGINT handler (which ends
    the run after saving its state), then get `signum` there."""
    stopped = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    try:
        os.kill(os.getpid(), signum)
        assert stopped.wait(5), "the signal did not reach Tune's handler"
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def _tune_like_run(path: Path, signum: int):
    """A stand-in for `run_sweep`: gets `signum` in Tune's handler and returns the sweep's
    summary, unfinished."""
    from orchestrator.tables.results import write_trials

    def run_sweep(config, address=None, resume=False, **_):
        _signal_tunes_handler(signum)
        rows = [{"trial_id": f"t{i}", "status": s} for i, s in enumerate(["TERMINATED", "STOPPED", "RUNNING"])]
        write_trials(str(path), rows, {"metric": "alpha_acc", "mode": "max", "knobs": [], "epochs": 4,
                                       "space": "darts", "study_name": "x"})
        return {"interrupted": True}

    return run_sweep


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
@pytest.mark.parametrize("command, says, resume_flag", [
    ("sweep", "stopped with 2 of 6 trials finished in {dir}", ["--resume"]),
    # a pipeline continues with the same command
    ("pipeline", "stopped in the sweep stage, with 2 of 6 trials finished", []),
])
def test_a_stopped_sweep_says_how_many_trials_finished(monkeypatch, tmp_path, capsys, signum, code,
                                                       command, says, resume_flag):
    sweep_dir = tmp_path / "s-sweep"
    monkeypatch.setattr(f"orchestrator.stages.{command}.run_sweep", _tune_like_run(sweep_dir, signum))
    argv = [command, "quickstart", "--set", f"output_dir={tmp_path}", "--set", "name=s"]
    exit_code, out, err = run_cli(capsys, *argv)
    line = _last_line(err)
    assert exit_code == code
    assert command == "pipeline" or out == ""
    assert says.format(dir=sweep_dir) in line
    assert _resume_argv(line) == [*argv, *resume_flag]


# --- retrain: a grid of Tune trials ----------------------------------------------------------

@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_retrain_stopped_records_the_unfinished_runs(monkeypatch, tmp_path, capsys, signum, code):
    import ray
    from ray import tune

    class TuneLikeTuner:
        def __init__(self, trainable, param_space, **_):
            self.pairs = param_space["pair"]["grid_search"]

        def fit(self):
            _signal_tunes_handler(signum)
            done = {"epoch": 3, "test_acc": 0.5, "test_ce": 1.0, "train_acc": 0.6, "params": 1, "macs": 2,
                    "wall_time_s": 1.0}
            return [SimpleNamespace(config={"pair": self.pairs[0]}, metrics=done, error=None),
                    SimpleNamespace(config={"pair": self.pairs[1]}, metrics={**done, "epoch": 1}, error=None)]

    monkeypatch.setattr("orchestrator.cluster.ray_runtime.ensure_ray", lambda address=None: None)
    monkeypatch.setattr("orchestrator.stages.stage_door.check_cluster_resources", lambda *a, **k: None)
    monkeypatch.setattr("orchestrator.cluster.placement.check_storage", lambda config: None)
    monkeypatch.setattr(ray, "cluster_resources", lambda: {"CPU": 2.0})
    monkeypatch.setattr(tune, "Tuner", TuneLikeTuner)
    monkeypatch.setattr(tune, "with_parameters", lambda fn, **_: fn)
    monkeypatch.setattr(tune, "with_resources", lambda fn, _: fn)
    argv = ["retrain", "quickstart", "--genotype", "DARTS_V2", "--seeds", "2", "--set", f"output_dir={tmp_path}",
            "-q"]
    exit_code, _, err = run_cli(capsys, *argv)
    line = _last_line(err)
    assert exit_code == code, err
    assert "stopped in the retrain stage with 1 of 2 runs finished" in line
    assert _resume_argv(line) == argv

    from orchestrator.tables.retrain_table import load_retrain

    table = load_retrain(str(tmp_path / "quickstart-retrain"))
    assert table.sort_values("seed")["status"].tolist() == ["TERMINATED", "STOPPED"]


def test_a_local_ray_is_our_own_and_sigterm_stays_ours_after_ray_init(monkeypatch):
    """ray.init with no address joins the cluster a `ray start` recorded on this machine
    (another user's, whose shutdown killed our run: seen here), and replaces the SIGTERM
    handler with its own (sys.exit) plus a native one that dumps a stack trace."""
    import ray

    from orchestrator.cluster.ray_runtime import ensure_ray

    calls = []

    def fake_init(**kwargs):
        calls.append(kwargs)
        signal.signal(signal.SIGTERM, lambda *_: None)  # what ray.init does to the handler
        return SimpleNamespace(dashboard_url="127.0.0.1:1")

    previous = signal.getsignal(signal.SIGTERM)
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", fake_init)
    try:
        ensure_ray(num_cpus=2)
        (kwargs,) = calls
        assert kwargs["address"] == "local" and kwargs["num_cpus"] == 2 and kwargs["include_dashboard"]
        assert signal.getsignal(signal.SIGTERM) is interrupts._on_sigterm
        calls.clear()
        monkeypatch.setattr("orchestrator.cluster.ray_runtime.check_address_reachable", lambda address: None)
        ensure_ray("10.0.0.1:6379")  # an address given: that cluster is joined
        assert calls[0]["address"] == "10.0.0.1:6379"
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_ray_train_still_has_the_sigint_handler_that_search_leaves_out():
    """`search_run.fit_stoppable` replaces TorchTrainer's per-fit SIGINT handler (private in
    Ray 2.60); should a Ray upgrade rename it, this says so instead of Ctrl+C exiting 0."""
    from ray.train.torch import TorchTrainer

    assert callable(getattr(TorchTrainer, "_register_sigint_handler", None))


def test_the_resume_command_drops_restart():
    """A run started with --restart and then stopped is continued without --restart: given
    again, it would move aside the very run it should continue."""
    line = interrupts.resume_command(["sweep", "quickstart", "--restart", "--set", "name=x"], ("--resume",))
    assert shlex.split(line) == ["alphadarts", "sweep", "quickstart", "--set", "name=x", "--resume"]
