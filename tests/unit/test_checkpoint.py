"""Checkpoint files: atomic writes, weights_only loads, clear errors on bad files."""

import pytest
import torch

from trainables.checkpoint import load_state, save_state
from trainables.seeding import capture_rng, restore_rng
from trainables.errors import InputError


def test_round_trip_with_rng(tmp_path):
    torch.manual_seed(1)
    state = {"epoch": 2, "rng": [capture_rng()], "w": torch.arange(3.0)}
    save_state(tmp_path / "state.pt", state)
    expected = torch.rand(3)
    loaded = load_state(tmp_path / "state.pt")
    restore_rng(loaded["rng"][0])
    assert torch.equal(torch.rand(3), expected)
    assert loaded["epoch"] == 2 and torch.equal(loaded["w"], torch.arange(3.0))
    assert [p.name for p in tmp_path.iterdir()] == ["state.pt"]  # no temp file left behind


@pytest.mark.parametrize("content", [b"", b"garbage", b"PK\x03\x04broken zip"])
def test_corrupt_file_is_input_error(tmp_path, content):
    path = tmp_path / "state.pt"
    path.write_bytes(content)
    with pytest.raises(InputError, match="corrupt"):
        load_state(path)


def test_foreign_torch_file_is_rejected(tmp_path):
    torch.save({"weights": torch.zeros(1)}, tmp_path / "other.pt")
    with pytest.raises(InputError, match="not an alphadarts checkpoint"):
        load_state(tmp_path / "other.pt")


def test_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "state.pt"
    save_state(path, {"epoch": 1})

    def broken_save(obj, f):
        f.write(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError):
        save_state(path, {"epoch": 2})
    monkeypatch.undo()
    assert load_state(path)["epoch"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["state.pt"]


def test_written_files_follow_the_umask_not_mkstemps_0600(tmp_path):
    import os
    import stat

    from trainables.atomic_files import atomic_write_bytes

    old = os.umask(0o022)
    try:
        atomic_write_bytes(tmp_path / "table.parquet", b"data")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "table.parquet").stat().st_mode) == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["table.parquet"]


def test_checkpoint_of_another_format_is_refused_in_one_line(tmp_path):
    torch.save({"format": 99, "epoch": 3}, tmp_path / "state.pt")
    with pytest.raises(InputError, match="format 99, this alphadarts reads format 1") as err:
        load_state(tmp_path / "state.pt")
    assert "\n" not in str(err.value)


def test_saved_checkpoints_carry_the_format(tmp_path):
    save_state(tmp_path / "state.pt", {"epoch": 1})
    assert torch.load(tmp_path / "state.pt", weights_only=True)["format"] == 1


def test_a_pickled_object_is_refused_not_run(tmp_path):
    """weights_only=True: a checkpoint that would run code when unpickled is refused."""
    marker = tmp_path / "ran"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    torch.save({"epoch": 1, "payload": Evil()}, tmp_path / "state.pt")
    with pytest.raises(InputError, match="corrupt or not an alphadarts checkpoint"):
        load_state(tmp_path / "state.pt")
    assert not marker.exists()


def test_resume_with_other_tensor_shapes_never_reaches_load_state_dict(monkeypatch):
    """A supernet of another size: one short line naming the first mismatch, instead of
    torch's list of every size mismatch."""
    from trainables.checkpoint import check_same_shapes

    small, large = torch.nn.Sequential(torch.nn.Linear(4, 8)), torch.nn.Sequential(torch.nn.Linear(4, 16))
    called = []
    monkeypatch.setattr(torch.nn.Module, "load_state_dict", lambda *a, **k: called.append(1))
    with pytest.raises(InputError, match=r"2 tensors of another shape.*0\.weight is \(8, 4\) there, \(16, 4\) here"):
        check_same_shapes(large, small.state_dict(), "network")
    with pytest.raises(InputError, match="1 unknown"):
        check_same_shapes(small, {**small.state_dict(), "extra": torch.zeros(1)}, "network")
    check_same_shapes(small, small.state_dict(), "network")  # the same shapes pass
    assert not called


def test_search_resumed_from_a_supernet_of_another_size_is_one_line():
    from search_space import build_supernet
    from trainables.config import SearchConfig
    from trainables.objective import SearchObjective
    from trainables.reporters import MemoryReporter
    from trainables.search_loop import run_search

    raw = {"epochs": 1, "data": {"dataset": "synthetic", "image_size": 8, "batch_size": 16, "synthetic_samples": 64},
           "model": {"space": "darts", "channels": 4, "layers": 3},
           "mim": {"patch_size": 2, "decoder_depth": 1, "decoder_width": 8}}
    saved = SearchConfig.model_validate(raw)
    other = SearchObjective(build_supernet("darts", 10, 6, 3), saved.mim, 0)  # channels 6, not 4
    state = {"epoch": 1, "history": [], "objective": other.state_dict()}
    with pytest.raises(InputError, match="does not fit this config") as err:
        run_search(saved, MemoryReporter(resume_state=state))
    assert "\n" not in str(err.value) and len(str(err.value)) < 400
