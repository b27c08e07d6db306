"""The top-level command line: --version, -q/-v anywhere, and a --help written for users."""

import pytest

from orchestrator import console
from orchestrator.stages import tune_output
from orchestrator.cli import build_parser, main, version


def test_version(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.strip() == f"alphadarts {version()}" != "alphadarts "


def test_help_opens_with_text_for_users(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    description = out.split("\n\n", 2)[1]
    assert description.startswith("alphadarts: differentiable architecture search")
    assert "entry point" not in out and "alphadarts pipeline quickstart" in out
    for command in ("pipeline", "sweep", "results", "dashboard", "report"):
        assert f"    {command} " in out


@pytest.mark.parametrize("argv, level", [
    (["results", "x"], None), (["-q", "results", "x"], 0), (["results", "x", "-q"], 0),
    (["-v", "results", "x"], 2), (["results", "x", "--verbose"], 2), (["--quiet", "results", "x"], 0),
])
def test_quiet_and_verbose_before_or_after_the_command(argv, level):
    assert build_parser().parse_args(argv).verbosity == level


def test_quiet_and_verbose_together_is_exit_2(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["-q", "-v", "results", "x"])
    assert stop.value.code == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_quiet_turns_the_progress_table_off(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("RAY_AIR_NEW_OUTPUT", raising=False)  # progress_reporting sets it: undone after
    main(["-q", "results", str(tmp_path / "missing")])  # exit 2, but the flag took effect
    try:
        assert tune_output.progress_reporting(["epoch"], ["seed"]) == {"verbose": 0}
        main(["-v", "results", str(tmp_path / "missing")])
        reporting = tune_output.progress_reporting(["epoch"], ["seed"])
        assert reporting["verbose"] == 1 and reporting["progress_reporter"]._interval_s == 5.0
    finally:
        console.set_verbosity(1)


def test_a_runaway_error_is_cut_in_the_middle_keeping_what_to_do():
    """Seen: Ray's text for a dead worker ran past the limit, and cutting the tail lost the
    checkpoint to resume from, which our message puts last."""
    from orchestrator.cli import MAX_MESSAGE, one_line_message

    cause = "The actor is dead because its worker process has died.\n" + "x" * 2000
    line = one_line_message(RuntimeError(f"the search failed ({cause}); the last checkpoint is /r/c_1; "
                                         "rerun the same command to resume from it"))
    assert "\n" not in line and len(line) < MAX_MESSAGE + 60
    assert line.startswith("the search failed (The actor is dead")
    assert line.endswith("the last checkpoint is /r/c_1; rerun the same command to resume from it")
    assert one_line_message(ValueError("short\ntext")) == "short text"


def test_a_command_imports_only_what_it_needs():
    """Only the module of the command being run is imported: `dashboard` starts without torch
    or Ray (the CLI used to import every command module, and with them torch and Ray Tune:
    seconds before any command did anything)."""
    import subprocess
    import sys

    script = """
import sys
from orchestrator.cli import main
try:
    main(["dashboard", "--help"])
except SystemExit:
    pass
print(sorted(m for m in ("torch", "ray") if m in sys.modules))
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert out.splitlines()[-1] == "[]"
