"""YAML as the config door reads it: a key given twice is an error, not "the last one wins".

PyYAML's `safe_load` keeps the last of two equal keys without a word, so a config file with
`search:` twice silently loses the first section. `load_strict` refuses that, naming the key
and its line.

It parses with libyaml where PyYAML has it (`CSafeLoader`: the same safe constructors and
resolver over a C parser, several times faster), and every
command reads its config and each `--set` value through it. libyaml also takes a tab after
`key:` as a separator, where PyYAML's Python parser refused the file.
"""

from __future__ import annotations

import yaml


class DuplicateKeyError(yaml.constructor.ConstructorError):
    """A mapping holds the same key twice."""


_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # PyYAML built without libyaml: Python


class _StrictLoader(_SafeLoader):
    """SafeLoader (no Python objects) that refuses duplicate keys in any mapping."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            if key in seen:
                raise DuplicateKeyError(
                    None, None,
                    f"key {key!r} appears twice (lines {seen[key] + 1} and {key_node.start_mark.line + 1})",
                    key_node.start_mark,
                )
            seen[key] = key_node.start_mark.line
        except TypeError:  # an unhashable key: SafeLoader's own error follows
            break
    return yaml.constructor.SafeConstructor.construct_mapping(loader, node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_strict(text: str):
    """`yaml.safe_load`, except that a duplicate key raises DuplicateKeyError."""
    return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
