"""Two commands writing the same run or experiment at once: the second is refused at once,
before Ray starts, with exit 2 and one line, and leaves the first one's files alone."""

import pytest

from helpers import run_cli
from orchestrator.cluster.run_lock import exclusive, lock_path


def _no_ray(address=None, **_):
    raise AssertionError("Ray was started by a command that should have been refused")


@pytest.mark.parametrize("command, directory", [
    ("search", "q"), ("sweep", "q-sweep"), ("pipeline", "q-pipeline"),
])
def test_a_second_command_on_the_same_directory_is_refused(monkeypatch, tmp_path, capsys, command, directory):
    monkeypatch.setattr("orchestrator.cluster.ray_runtime.ensure_ray", _no_ray)  # every stage's door asks it
    target = tmp_path / directory
    target.mkdir()
    (target / "result.json").write_text('{"epoch": 1}')
    argv = [command, "quickstart", "--set", f"output_dir={tmp_path}", "--set", "name=q"]
    with exclusive(str(target)):  # what the first command holds while it runs
        code, out, err = run_cli(capsys, *argv)
    assert code == 2 and out == ""
    assert err == (f"alphadarts: error: {target} is being written by another alphadarts command (it holds "
                   f"{lock_path(str(target))}); wait for that one to end, or choose another name "
                   "(--set name=...)\n")
    assert [p.name for p in target.iterdir()] == ["result.json"]
    assert (target / "result.json").read_text() == '{"epoch": 1}'


def test_the_lock_is_released_when_the_command_ends(tmp_path):
    with exclusive(str(tmp_path / "run")):
        pass
    with exclusive(str(tmp_path / "run")):  # taken again at once: nothing holds it
        pass
    with pytest.raises(RuntimeError), exclusive(str(tmp_path / "run")):
        raise RuntimeError("a command that failed")
    with exclusive(str(tmp_path / "run")):
        pass
    assert not (tmp_path / "run").exists()  # the lock lies beside the directory, not in it
