"""Read a genotype from whatever a user types after `--genotype`.

Accepted, tried in this order: a published name (case-insensitive), a JSON object (text or a
path to a .json file holding `to_dict()` output), a DARTS `Genotype(...)` string as the
papers print it, a NAS-Bench-201 benchmark string. DARTS strings are read with `ast`, never
`eval`: only literals and `range(a, b)` are accepted.
"""

from __future__ import annotations

import ast
import json
import os
from typing import Any

from search_space.errors import SearchSpaceError
from search_space.genotypes import DartsGenotype, Genotype, Nb201Genotype, genotype_from_dict
from search_space.operations import check_space
from search_space.published import PUBLISHED_GENOTYPES, published_names

_DARTS_FIELDS = ("normal", "normal_concat", "reduce", "reduce_concat")


def _literal(node: ast.AST, text: str) -> Any:
    """`ast.literal_eval` plus `range(a, b)`, which the DARTS code prints for concat lists."""
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "range"
        and not node.keywords
        and 1 <= len(node.args) <= 3
    ):
        return list(range(*(_literal(arg, text) for arg in node.args)))
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_literal(item, text) for item in node.elts]
    try:
        return ast.literal_eval(node)
    except ValueError:
        raise SearchSpaceError(
            f"genotype {text!r} contains {ast.unparse(node)!r}; only literals and range(a, b) "
            f"are allowed."
        ) from None


def _flatten_nodes(cell: Any) -> Any:
    """Accept the per-node nesting some repositories print: [[(op, i), (op, j)], ...]."""
    if isinstance(cell, list) and cell and all(
        isinstance(node, list) and node and all(isinstance(p, list) for p in node) for node in cell
    ):
        return [pair for node in cell for pair in node]
    return cell


def parse_darts_string(text: str) -> DartsGenotype:
    """Parse `Genotype(normal=[...], normal_concat=[...], reduce=[...], reduce_concat=[...])`."""
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as exc:
        raise SearchSpaceError(
            f"genotype {text!r} is not valid Genotype(...) syntax: {exc.msg}."
        ) from None
    if not (
        isinstance(tree, ast.Call)
        and isinstance(tree.func, (ast.Name, ast.Attribute))
        and (tree.func.id if isinstance(tree.func, ast.Name) else tree.func.attr) == "Genotype"
    ):
        raise SearchSpaceError(f"genotype {text!r} is not a Genotype(...) call.")
    if len(tree.args) > len(_DARTS_FIELDS):
        raise SearchSpaceError(
            f"genotype {text!r} has too many arguments; expected {_DARTS_FIELDS}."
        )
    values = dict(zip(_DARTS_FIELDS, (_literal(arg, text) for arg in tree.args)))
    for keyword in tree.keywords:
        if keyword.arg not in _DARTS_FIELDS or keyword.arg in values:
            raise SearchSpaceError(
                f"genotype {text!r} has argument {keyword.arg!r}; expected each of "
                f"{', '.join(_DARTS_FIELDS)} once."
            )
        values[keyword.arg] = _literal(keyword.value, text)
    missing = [f for f in _DARTS_FIELDS if f not in values]
    if missing:
        raise SearchSpaceError(f"genotype {text!r} lacks {', '.join(missing)}.")
    return DartsGenotype(
        _flatten_nodes(values["normal"]),
        values["normal_concat"],
        _flatten_nodes(values["reduce"]),
        values["reduce_concat"],
    )


def _from_json_text(space: str, text: str, origin: str) -> Genotype:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SearchSpaceError(
            f"genotype {origin} is not valid JSON: {exc.msg} at line {exc.lineno}."
        ) from None
    if not isinstance(data, dict):
        raise SearchSpaceError(
            f"genotype {origin} must hold a JSON object, got {type(data).__name__}."
        )
    return genotype_from_dict(data, space)


def parse_genotype(space: str, spec: str) -> Genotype:
    """A genotype of `space` from a published name, JSON text, a .json path, a DARTS
    `Genotype(...)` string or a NB201 benchmark string; SearchSpaceError otherwise."""
    check_space(space)
    if not isinstance(spec, str) or not spec.strip():
        raise SearchSpaceError(
            f"genotype {spec!r} is empty; give a name, a string or a .json file."
        )
    text = spec.strip()
    by_upper = {name.upper(): name for name in PUBLISHED_GENOTYPES}
    if text.upper() in by_upper:
        name = by_upper[text.upper()]
        genotype = PUBLISHED_GENOTYPES[name]
        if genotype.space != space:
            raise SearchSpaceError(
                f"genotype {name!r} belongs to the {genotype.space} space, not {space}; "
                f"{space} names: {', '.join(published_names(space))}."
            )
        return genotype
    if text.startswith("{"):
        return _from_json_text(space, text, "string")
    if space == "darts" and "(" in text:
        return parse_darts_string(text)
    if space == "nb201" and text.startswith("|"):
        return Nb201Genotype.from_string(text)
    if os.path.isfile(text):
        try:
            with open(text, encoding="utf-8") as handle:
                content = handle.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise SearchSpaceError(f"genotype file {text!r} cannot be read: {exc}.") from None
        return _from_json_text(space, content, f"file {text!r}")
    if text.lower().endswith(".json"):
        raise SearchSpaceError(f"genotype file {text!r} does not exist.")
    forms = "a Genotype(...) string" if space == "darts" else "a '|op~0|+|op~0|op~1|+...' string"
    raise SearchSpaceError(
        f"genotype {text!r} is not a published {space} name "
        f"({', '.join(published_names(space))}), {forms}, a JSON object or an existing .json file."
    )
