"""The config door's YAML reader parses with libyaml (`CSafeLoader`) where PyYAML has it. It
must read what PyYAML's Python parser read, and the same way: the safe constructors, the
resolver and the duplicate-key check are the same, only the parser differs."""

import math

import pytest
import yaml

from orchestrator.yaml_input import DuplicateKeyError, _construct_mapping, _StrictLoader, load_strict


class _PythonStrictLoader(yaml.SafeLoader):
    """The reader as it was: the Python parser, with the same duplicate-key check."""


_PythonStrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)

CASES = [
    "name: quickstart\nsearch:\n  epochs: 4\n  mim: {mask_ratio: 0.5, phases: [alpha]}\n",
    "\ufeffa: 1", "a: b: c", "a: 1\n a: 2", "- 1\n- 2", "", "   ", "# only a comment",
    "a: 'unterminated", "é: ü", "a: 😀", "a: \x07", "a: \x00", "? [1, 2]\n: 3",
    "a: 0x1F", "a: 0o17", "a: 1_000", "a: 1e-3", "a: 1.0e-3", "a: .inf", "a: yes", "a: ~",
    "a: 2026-12-03", "a: !!binary aGk=", "a: !!python/name:os.system", "x: &a {p: 1}\ny: *a",
    "{a: 1, a: 2}", "a:\n  - b: 1\n    b: 2", "key: value\n...\n", "---\na: 1\n---\nb: 2",
    "search: {epochs: [1,\n",
]


def _outcome(loader, text: str):
    try:
        value = yaml.load(text, Loader=loader)  # noqa: S506 - SafeLoader subclasses
    except yaml.YAMLError as exc:
        return "error", type(exc).__name__
    return "value", repr(value) if isinstance(value, float) and math.isnan(value) else value


@pytest.mark.parametrize("text", CASES)
def test_libyaml_reads_what_the_python_parser_read(text):
    assert _outcome(_StrictLoader, text) == _outcome(_PythonStrictLoader, text)


def test_the_reader_is_libyaml_where_pyyaml_has_it():
    assert issubclass(_StrictLoader, yaml.CSafeLoader) == bool(yaml.__with_libyaml__)


def test_a_duplicate_key_is_named_with_both_lines():
    with pytest.raises(DuplicateKeyError) as info:
        load_strict("a: 1\nb: 2\na: 3\n")
    assert info.value.problem == "key 'a' appears twice (lines 1 and 3)"


def test_a_tab_after_a_key_separates_as_in_libyaml():
    """The one difference seen: the Python parser refused a tab after `key:`."""
    assert load_strict("a:\tb") == {"a": "b"}
    with pytest.raises(yaml.YAMLError):
        yaml.load("a:\tb", Loader=_PythonStrictLoader)  # noqa: S506
