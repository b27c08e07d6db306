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
