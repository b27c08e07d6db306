"""Distributed search on Ray Train: two CPU workers keep α identical, and a killed worker
costs only the time since the last checkpoint."""

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from orchestrator.cli import main
from helpers import tiny_search

pytestmark = pytest.mark.ray

TWO_WORKERS = [*tiny_search(epochs=4, subset=128), "--set", "search.runtime.num_workers=2"]


def search_args(tmp_path, name, *extra):
    return ["search", "quickstart", "--set", f"output_dir={tmp_path}", "--set", f"name={name}",
            *TWO_WORKERS, *extra, "--json"]


class _Reference:
    """The uninterrupted run, started in its own driver when first asked for and awaited
    only where its result is read: it runs beside the killed-worker run (1 CPU each of the
    shared instance's 2), not before it."""

    def __init__(self, process: subprocess.Popen):
        self.process, self._summary = process, None

    def summary(self) -> dict:
        if self._summary is None:
            out, err = self.process.communicate(timeout=600)
            assert self.process.returncode == 0, err[-3000:]
            self._summary = json.loads(out.strip().splitlines()[-1])
        return self._summary


@pytest.fixture(scope="module")
def reference(ray_session, tmp_path_factory):
    """An uninterrupted 2-worker search: the run every interrupted one must reproduce."""
    run = _Reference(_start(ray_session, search_args(tmp_path_factory.mktemp("reference"), "reference")))
    yield run
    if run.process.poll() is None:  # a test failed before reading it
        run.process.kill()
        run.process.communicate()


def _start(ray_session, args) -> subprocess.Popen:
    address = ray_session.get_runtime_context().gcs_address
    return subprocess.Popen(
        [sys.executable, "-m", "orchestrator.cli", *args, "--address", address],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def _in_process(args) -> dict:
    """`alphadarts ARGS` in this process, on the shared Ray instance: its JSON summary."""
    import io
    from contextlib import redirect_stdout

    buf = io.StringIO()
    with redirect_stdout(buf):
        assert main(args) == 0
    return json.loads(buf.getvalue().strip().splitlines()[-1])


def _job_of(driver: subprocess.Popen, address: str) -> str:
    """The Ray job id of the driver process `driver`."""
    from ray.util.state import list_jobs

    (job,) = [j for j in list_jobs(address=address)
              if j.driver_info is not None and str(j.driver_info.pid) == str(driver.pid)]
    return job.job_id


def _kill_one_worker_after_checkpoint(process: subprocess.Popen, run_dir: Path, address: str,
                                      after: int = 0) -> tuple[int, list[dict]]:
    """Kill a Train worker once a checkpoint of an epoch past `after` is registered; return
    that checkpoint's epoch and history."""
    from ray.util.state import list_actors

    from orchestrator.stages.search_run import latest_checkpoint
    from trainables.checkpoint import load_state

    job = None  # the driver's job id, looked up once its first checkpoint exists
    deadline = time.time() + 240
    while time.time() < deadline:
        assert process.poll() is None, "the search ended before a worker could be killed"
        # kill only once Ray registered a checkpoint: what a resume starts from
        checkpoint, epoch = latest_checkpoint(str(run_dir))
        if checkpoint and epoch > after:
            # this run's workers only (the reference runs beside it): its driver's job. The
            # address named: with no address, the state API guesses among all the Ray
            # instances on the machine and refuses when there are several (seen here)
            job = job or _job_of(process, address)
            workers = list_actors(address=address, filters=[
                ("class_name", "=", "RayTrainWorker"), ("state", "=", "ALIVE"), ("job_id", "=", job)])
            if len(workers) == 2:
                os.kill(workers[-1]["pid"], signal.SIGKILL)
                return epoch, load_state(Path(checkpoint) / "state.pt")["history"][:epoch]
        time.sleep(0.2)
    raise AssertionError(f"no checkpoint past epoch {after} appeared in time")


def test_a_killed_worker_is_replaced_and_one_failure_too_many_names_the_checkpoint(ray_session, reference,
                                                                                  tmp_path):
    """`runtime.max_failures=1`, a Train worker SIGKILLed twice. The first time Ray Train
    replaces the worker group, which resumes from the last checkpoint and writes the next
    one; the second time the run fails: exit 1 and one line naming the checkpoint to rerun
    from. The rerun ends with the α of the uninterrupted run (so the replaced workers went
    on exactly), and the epochs done before each kill keep their recorded metrics."""
    args = search_args(tmp_path, "killed", "--set", "search.runtime.max_failures=1")
    address = ray_session.get_runtime_context().gcs_address
    process = _start(ray_session, args)
    first_epoch, first_history = _kill_one_worker_after_checkpoint(process, tmp_path / "killed", address)
    # replaced, not failed: a new worker group writes a checkpoint past the one killed at
    second_epoch, second_history = _kill_one_worker_after_checkpoint(
        process, tmp_path / "killed", address, after=first_epoch)
    assert second_history[:first_epoch] == first_history
    out, err = process.communicate(timeout=600)
    assert process.returncode == 1, err[-3000:]
    last_line = err.strip().splitlines()[-1]
    assert last_line.startswith("alphadarts: failed:")
    assert str(tmp_path / "killed" / "checkpoint_") in last_line
    assert "rerun" in last_line

    summary = _in_process(args)  # the rerun: no new driver process to start
    assert summary["alphas"] == reference.summary()["alphas"]
    assert summary["genotype"]["str"] == reference.summary()["genotype"]["str"]
    # resumed, not restarted: the epochs done before the failure keep their recorded metrics
    # (their wall times could not be measured again to the same float)
    epochs = [json.loads(l) for l in (tmp_path / "killed" / "epochs.jsonl").read_text().splitlines()]
    assert [e["epoch"] for e in epochs] == [1, 2, 3, 4]
    assert epochs[:second_epoch] == second_history


def test_two_workers_keep_alpha_bitwise_identical(reference):
    run_dir = Path(reference.summary()["run_dir"])
    epochs = [json.loads(line) for line in (run_dir / "epochs.jsonl").read_text().splitlines()]
    assert [e["epoch"] for e in epochs] == [1, 2, 3, 4]
    for epoch in epochs:
        digests = epoch["alpha_rank_digests"]
        assert len(digests) == 2
        assert digests[0] == digests[1], epoch["epoch"]
    # the digest is of the α the run reports: a changed α changes it
    assert len({e["alpha_rank_digests"][0] for e in epochs}) == 4


def test_ctrl_c_says_how_to_resume_and_the_resumed_run_matches_uninterrupted(ray_session, reference, tmp_path):
    """`alphadarts search` as a user starts it (its own local Ray), Ctrl+C'd after its first
    checkpoint: SIGINT to its whole process group, as a terminal sends it. One line naming
    the command that resumes it, exit 130, no native stack trace, none of the Ray processes
    it started left; that command then finishes with the α of an uninterrupted run."""
    import shlex

    import psutil  # vendored by Ray, on the path once ray is imported (ray_session)

    from orchestrator.stages.search_run import latest_checkpoint
    from trainables.checkpoint import load_state

    args = search_args(tmp_path, "stopped")
    driver = subprocess.Popen([sys.executable, "-m", "orchestrator.cli", *args], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, start_new_session=True)
    started = set()
    deadline = time.time() + 300
    while latest_checkpoint(str(tmp_path / "stopped"))[0] is None:
        assert driver.poll() is None and time.time() < deadline, "the search ended or stalled before a checkpoint"
        for child in psutil.Process(driver.pid).children(recursive=True):
            try:
                started.add((child.pid, child.create_time()))
            except psutil.NoSuchProcess:  # ended between the listing and the question
                pass
        time.sleep(0.2)
    os.killpg(driver.pid, signal.SIGINT)
    out, err = driver.communicate(timeout=120)
    (tmp_path / "stderr.txt").write_text(err)  # for a look after a failure
    # the checkpoint the run stopped at: epochs can end between the first checkpoint and the
    # signal's arrival, and Train keeps only the newest two (the first may be gone)
    checkpoint, saved = latest_checkpoint(str(tmp_path / "stopped"))
    saved_history = load_state(Path(checkpoint) / "state.pt")["history"][:saved]
    assert driver.returncode == 130, err[-3000:]
    line = err.strip().splitlines()[-1]
    assert line.startswith(f"alphadarts: SIGINT received; stopped in epoch {saved + 1} of 4 "), line
    # no native dump ("*** SIGINT received at time=... PC: @ ..."), no traceback of the
    # driver's (lines Ray forwards from its actors carry a "(Actor pid=...)" prefix)
    assert "received at time=" not in err and not re.search(r"^Traceback", err, re.M), err[-3000:]

    def alive():
        names = []
        for pid, created in started:
            try:
                process = psutil.Process(pid)
                if process.create_time() == created:
                    names.append(process.name())
            except psutil.NoSuchProcess:
                pass
        return names

    deadline = time.time() + 20  # processes that got the signal may still be exiting
    while alive() and time.time() < deadline:
        time.sleep(0.5)
    assert not alive(), alive()

    command = shlex.split(line.split("Resume with: ", 1)[1])
    assert command[:3] == ["alphadarts", "search", "quickstart"] and command[3:] == args[2:]
    summary = _in_process(command[1:])  # that command, run here on the shared Ray instance
    assert summary["alphas"] == reference.summary()["alphas"]
    epochs = [json.loads(l) for l in (tmp_path / "stopped" / "epochs.jsonl").read_text().splitlines()]
    assert [e["epoch"] for e in epochs] == [1, 2, 3, 4]
    # resumed, not restarted: the epochs saved before Ctrl+C keep their recorded metrics
    assert epochs[:saved] == saved_history
