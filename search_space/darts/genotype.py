"""A DARTS genotype: per cell type, two `(op, input)` pairs per intermediate node; inputs 0
and 1 are the cell inputs and k >= 2 is node k - 2, so node i (0-based) may only read inputs
< i + 2. Validated on construction, printed as the DARTS papers print it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from search_space.darts.ops import OPS_DARTS, PARAMETER_FREE_OPS_DARTS
from search_space.errors import SearchSpaceError
from search_space.genotype_io import GenotypeJson, as_int, check_genotype_dict
from search_space.ops import check_op_name

DARTS_STEPS = 4  #: intermediate nodes of a DARTS cell

Pair = tuple[str, int]


def _darts_cell(pairs: object, field: str) -> tuple[Pair, ...]:
    """Validate one DARTS cell: exactly two (op, input) pairs per node, inputs in range."""
    if isinstance(pairs, (str, bytes)) or not isinstance(pairs, Iterable):
        raise SearchSpaceError(f"{field} {pairs!r} is not a list of (op, input) pairs.")
    pairs = list(pairs)
    if len(pairs) != 2 * DARTS_STEPS:
        raise SearchSpaceError(
            f"{field} has {len(pairs)} edges; a DARTS cell has exactly {2 * DARTS_STEPS} "
            f"(two per node, {DARTS_STEPS} nodes)."
        )
    cell = []
    for position, pair in enumerate(pairs):
        if isinstance(pair, (str, bytes)) or not isinstance(pair, Iterable):
            raise SearchSpaceError(f"{field}[{position}] {pair!r} is not an (op, input) pair.")
        pair = tuple(pair)
        if len(pair) != 2:
            raise SearchSpaceError(f"{field}[{position}] {pair!r} is not an (op, input) pair.")
        op = check_op_name(OPS_DARTS, "darts", pair[0], f"{field}[{position}] op")
        node = position // 2
        src = as_int(pair[1], f"{field}[{position}] input")
        if not 0 <= src < node + 2:
            raise SearchSpaceError(
                f"{field}[{position}] input {src} is out of range for node {node}; "
                f"allowed: 0..{node + 1}."
            )
        cell.append((op, src))
    return tuple(cell)


def _darts_concat(concat: object, field: str) -> tuple[int, ...]:
    if isinstance(concat, (str, bytes)) or not isinstance(concat, Iterable):
        raise SearchSpaceError(f"{field} {concat!r} is not a list of node indices.")
    values = tuple(as_int(v, field) for v in concat)
    allowed = range(2, DARTS_STEPS + 2)
    if not values or len(set(values)) != len(values) or any(v not in allowed for v in values):
        raise SearchSpaceError(
            f"{field} {list(values)} is not allowed; use distinct node indices in "
            f"{allowed.start}..{allowed.stop - 1}."
        )
    return values


@dataclass(frozen=True)
class DartsGenotype(GenotypeJson):
    """A DARTS cell pair. Lists given on construction are validated and stored as tuples."""

    normal: tuple[Pair, ...]
    normal_concat: tuple[int, ...]
    reduce: tuple[Pair, ...]
    reduce_concat: tuple[int, ...]
    space: ClassVar[str] = "darts"

    def __post_init__(self) -> None:
        object.__setattr__(self, "normal", _darts_cell(self.normal, "normal"))
        object.__setattr__(self, "reduce", _darts_cell(self.reduce, "reduce"))
        object.__setattr__(
            self, "normal_concat", _darts_concat(self.normal_concat, "normal_concat")
        )
        object.__setattr__(
            self, "reduce_concat", _darts_concat(self.reduce_concat, "reduce_concat")
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "space": self.space,
            "normal": [[op, src] for op, src in self.normal],
            "normal_concat": list(self.normal_concat),
            "reduce": [[op, src] for op, src in self.reduce],
            "reduce_concat": list(self.reduce_concat),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DartsGenotype:
        check_genotype_dict(data, "darts", ("normal", "normal_concat", "reduce", "reduce_concat"))
        return cls(data["normal"], data["normal_concat"], data["reduce"], data["reduce_concat"])

    def canonical(self) -> DartsGenotype:
        """The same architecture with each node's two pairs and the concat lists sorted: the
        order of a node's pairs (strongest edge first, as derived) does not change the net."""

        def sort_cell(cell: tuple[Pair, ...]) -> list[Pair]:
            nodes = (sorted(cell[i : i + 2], key=_pair_key) for i in range(0, len(cell), 2))
            return [pair for node in nodes for pair in node]

        return DartsGenotype(
            sort_cell(self.normal),
            sorted(self.normal_concat),
            sort_cell(self.reduce),
            sorted(self.reduce_concat),
        )

    def num_parameter_free_ops(self, cell: str = "normal") -> int:
        """Parameter-free ops (none, pools, skip) among the chosen ops of `cell` ("normal",
        "reduce" or "both"). The default is the normal cell: reduction cells are pooling-heavy
        by design, while skips piling up in the normal cell is DARTS's collapse."""
        cells = {"normal": self.normal, "reduce": self.reduce, "both": self.normal + self.reduce}
        if cell not in cells:
            raise SearchSpaceError(f"cell {cell!r} is not known; allowed: normal, reduce, both.")
        return sum(op in PARAMETER_FREE_OPS_DARTS for op, _ in cells[cell])

    def __str__(self) -> str:
        return (
            f"Genotype(normal={list(self.normal)}, normal_concat={list(self.normal_concat)}, "
            f"reduce={list(self.reduce)}, reduce_concat={list(self.reduce_concat)})"
        )


def _pair_key(pair: Pair) -> tuple[int, str]:
    return pair[1], pair[0]
