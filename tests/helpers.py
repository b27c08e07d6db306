"""Helpers shared by unit and integration tests (plain functions; fixtures live in conftest)."""

import torch


def assert_bitwise_equal(a: dict, b: dict) -> None:
    """Same keys, and every tensor equal to the last bit."""
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    """`alphadarts ARGV` in-process: (exit code, stdout, stderr)."""
    from orchestrator.cli import main

    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err
