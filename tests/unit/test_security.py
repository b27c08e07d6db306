"""Security rules checked on the source and the parsers: no shell, safe checkpoint loads,
dashboards on localhost unless asked."""

import ast
from pathlib import Path

import pytest

from orchestrator.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted(p for pkg in ("orchestrator", "trainables", "search_space") for p in (ROOT / pkg).rglob("*.py"))


def _calls(path: Path):
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Call):
            yield node, ast.unparse(node.func)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_shell_and_safe_torch_load(path):
    """Config values never reach a shell; every torch.load refuses pickled code."""
    for call, name in _calls(path):
        assert name not in ("os.system", "os.popen", "subprocess.getoutput", "subprocess.getstatusoutput"), \
            f"{path}:{call.lineno}: {name}"
        for kw in call.keywords:
            if kw.arg == "shell":
                assert isinstance(kw.value, ast.Constant) and kw.value.value is False, f"{path}:{call.lineno}"
        if name.endswith("torch.load"):
            weights_only = [kw for kw in call.keywords if kw.arg == "weights_only"]
            assert weights_only and ast.unparse(weights_only[0].value) == "True", f"{path}:{call.lineno}"


def test_dashboard_listens_on_localhost_unless_asked():
    args = build_parser().parse_args(["dashboard", "runs/x"])
    assert args.host == "127.0.0.1"
