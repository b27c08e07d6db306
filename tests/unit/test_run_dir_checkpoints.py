"""A single-worker trial's own checkpoints (trainables.run_dir_checkpoints): the newest
`keep` kept, a half-written one never taken for the latest, a resume reads the newest."""

import pytest
import torch

from trainables.checkpoint import STATE_FILE
from trainables.run_dir_checkpoints import RunDirCheckpoints


def _state(epoch: int) -> dict:
    return {"epoch": epoch, "w": torch.full((3,), float(epoch))}


def test_keeps_the_newest_and_resumes_from_the_latest(tmp_path):
    checkpoints = RunDirCheckpoints(tmp_path / "run", keep=2)
    assert checkpoints.latest_state() is None  # a fresh run: nothing to resume
    paths = [checkpoints.save(e, _state(e)) for e in (1, 2, 3)]
    assert [p.name for p in checkpoints.checkpoints()] == ["checkpoint_000002", "checkpoint_000003"]
    assert paths[-1] == str(tmp_path / "run" / "checkpoint_000003")
    state = checkpoints.latest_state()
    assert state["epoch"] == 3 and torch.equal(state["w"], torch.full((3,), 3.0))
    # ten epochs on: the names still sort by epoch
    checkpoints.save(10, _state(10))
    assert checkpoints.latest().name == "checkpoint_000010"


def test_a_half_written_checkpoint_is_not_the_latest(tmp_path):
    checkpoints = RunDirCheckpoints(tmp_path, keep=2)
    checkpoints.save(1, _state(1))
    (tmp_path / "checkpoint_000002").mkdir()  # a folder without its state file
    (tmp_path / ".checkpoint_000003.tmp").mkdir()  # a crash before the rename
    assert checkpoints.latest().name == "checkpoint_000001"


def test_the_same_epoch_again_replaces_it(tmp_path):
    checkpoints = RunDirCheckpoints(tmp_path, keep=2)
    checkpoints.save(1, _state(1))
    checkpoints.save(1, {**_state(1), "w": torch.zeros(3)})
    assert [p.name for p in checkpoints.checkpoints()] == ["checkpoint_000001"]
    assert torch.equal(checkpoints.latest_state()["w"], torch.zeros(3))
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp folder left
    assert (tmp_path / "checkpoint_000001" / STATE_FILE).is_file()


def test_an_object_store_path_is_refused():
    with pytest.raises(ValueError, match="local or NFS"):
        RunDirCheckpoints("s3://bucket/run", keep=2)


def test_which_runs_skip_ray_train():
    """One worker, no worker restarts, a file-system path: the loop runs in the Tune trial.
    Several workers, restarts (Ray Train's), or an object store: a Ray Train run."""
    from orchestrator.stages.in_trial import runs_in_trial
    from trainables.config import WorkerResources

    assert runs_in_trial(WorkerResources(), "/runs/x")
    assert not runs_in_trial(WorkerResources(num_workers=2), "/runs/x")
    assert not runs_in_trial(WorkerResources(max_failures=2), "/runs/x")
    assert not runs_in_trial(WorkerResources(), "s3://bucket/runs/x")
