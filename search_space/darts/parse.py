"""Read a DARTS `Genotype(...)` string as the papers and their repositories print it, with
`ast`, never `eval`: only literals and `range(a, b)` are accepted."""

from __future__ import annotations

import ast
from typing import Any

from search_space.darts.genotype import DartsGenotype
from search_space.errors import SearchSpaceError

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


def parse_darts_text(text: str) -> DartsGenotype | None:
    """The genotype `text` spells, or None when it is not a `Genotype(...)`-like call."""
    return parse_darts_string(text) if "(" in text else None
