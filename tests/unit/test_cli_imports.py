"""The command line answers `--help` and a bad config without importing torch, Ray or pandas
(each costs seconds and hundreds of MB before anything is printed).

Each case runs `python -X importtime -m orchestrator.cli ...` in a fresh process, as a user
would, and reads the modules it imported from the import-time log on stderr: a module
imported by a dependency of a dependency counts as much as one imported directly.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.cli import COMMANDS

ROOT = Path(__file__).resolve().parents[2]

#: the packages that take seconds to import; none is needed to parse a command line or to
#: check a config
HEAVY = ("torch", "ray", "pandas")

#: `import time: SELF_US | CUMULATIVE_US | <indent>module`, one line per module imported
#: (after a header line that names the columns)
IMPORTED = re.compile(r"import time:\s+\d+ \|\s+\d+ \| *(\S+)$")


def _cli(*args: str) -> tuple[int, str, list[str], set[str]]:
    """Exit code, stdout, the stderr lines that are not the import log, and the top-level
    packages of every module imported."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "orchestrator.cli", *args],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    packages, other = set(), []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:"):
            other.append(line)
        elif match := IMPORTED.match(line):
            packages.add(match.group(1).split(".")[0])
    assert packages, "no import-time log: -X importtime did not take effect"
    return done.returncode, done.stdout, other, packages


def test_the_top_level_help():
    code, out, err, packages = _cli("--help")
    assert code == 0, err
    assert all(name in out for name in COMMANDS)
    assert not packages & set(HEAVY), sorted(packages & set(HEAVY))


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_each_commands_help(command):
    code, out, err, packages = _cli(command, "--help")
    assert code == 0, err
    assert out.startswith(f"usage: alphadarts {command}")
    assert not packages & set(HEAVY), sorted(packages & set(HEAVY))


@pytest.mark.parametrize(("args", "says"), [
    (("sweep", "quickstart", "--set", "sweep.num_samples=-1"),
     "sweep.num_samples=-1: Input should be greater than or equal to 1"),
    (("sweep", "quickstart", "--set", "search.model.space=foo"),
     "search.model.space='foo': allowed: darts, nb201"),
    (("search", "quickstart", "--set", "search.runtime.activation_checkpointing=bad"),
     "search.runtime.activation_checkpointing='bad': Input should be 'none', 'cells', 'first_stage' "
     "or 'mixed_ops'"),
    # the feature stride of the space's supernet (the catalog's, not the supernet's)
    (("search", "quickstart", "--set", "search.data.image_size=6", "--set", "search.mim.patch_size=2"),
     "search: data.image_size=6 must be a multiple of 4 (the feature stride of the darts supernet "
     "with model.layers=5)"),
    # what the space builds: no auxiliary head on NAS-Bench-201 networks
    (("pipeline", "quickstart", "--set", "search.model.space=nb201", "--set", "retrain.model.auxiliary=true"),
     "retrain: model.auxiliary=true is not allowed with space=nb201"),
    (("retrain", "quickstart", "--genotype", "DARTS_V2", "--set", "retrain.epochs=0"),
     "retrain.epochs=0: Input should be greater than 0"),
], ids=["num_samples", "space", "checkpointing", "feature_stride", "auxiliary", "retrain_epochs"])
def test_a_bad_config_is_answered_before_torch_or_ray(args, says):
    code, out, err, packages = _cli(*args)
    assert code == 2 and out == ""
    assert len(err) == 1 and err[0].startswith("alphadarts: error: invalid config (quickstart): "), err
    assert says in err[0]
    assert not packages & set(HEAVY), sorted(packages & set(HEAVY))
