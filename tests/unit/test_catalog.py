"""`search_space.catalog`, the torch-free names the configs and the command line check input
against, is the registry's: one list, read by the torch modules, never a copy that drifts."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest

import search_space
from search_space import PUBLISHED_GENOTYPES, SearchSpaceError, get_space
from search_space import catalog
from search_space.catalog import CHECKPOINT_MODES, declare, space_facts, space_names

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", catalog.SHIPPED)
def test_each_shipped_space_registers_what_the_catalog_lists(name):
    space = get_space(name)
    assert space.facts == space_facts(name)
    assert space.ops is space_facts(name).ops
    assert list(space.published) == catalog.published_names(name)
    for layers in range(1, 21):
        assert search_space.feature_stride(name, layers) == space.feature_stride(layers)


def test_the_names_are_the_ones_the_rest_reads():
    assert space_names() == search_space.space_names() == ("darts", "nb201")
    assert search_space.OPS_DARTS is catalog.darts.OPS and search_space.OPS_NB201 is catalog.nb201.OPS
    assert search_space.CHECKPOINT_MODES is CHECKPOINT_MODES
    assert list(PUBLISHED_GENOTYPES) == [n for name in space_names() for n in space_facts(name).published]


def test_a_shipped_space_cannot_be_declared_otherwise():
    other = dataclasses.replace(space_facts("darts"), ops=("none", "skip_connect"))
    with pytest.raises(SearchSpaceError, match="'darts' is already registered"):
        declare(other)
    with pytest.raises(SearchSpaceError, match="space 'toy' is not known; allowed: darts, nb201"):
        space_facts("toy")


def test_the_catalog_and_the_configs_import_no_torch():
    script = """
import sys
import search_space.catalog
from search_space import SearchSpaceError, space_names
from orchestrator.config import load_config
load_config("quickstart", ["search.model.space=nb201", "retrain.model.auxiliary=false"])
space_names()
print(sorted(m for m in ("torch", "ray", "pandas") if m in sys.modules))
"""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                         env=env, cwd=ROOT).stdout
    assert out.splitlines()[-1] == "[]"
