"""Discrete architectures (genotypes) of both spaces: validated on construction, written as
canonical JSON, printed in the form users know from the papers.

A DARTS genotype lists, per cell type, two `(op, input)` pairs per intermediate node; inputs
0 and 1 are the cell inputs and k >= 2 is node k - 2, so node i (0-based) may only read
inputs < i + 2. A NAS-Bench-201 genotype names the op on each of the cell's 6 edges.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Union

from search_space.errors import SearchSpaceError
from search_space.operations import PARAMETER_FREE_OPS, check_op

DARTS_STEPS = 4  #: intermediate nodes of a DARTS cell
NB201_NODES = 4  #: nodes of a NB201 cell, node 0 being the input
#: NB201 edges as (to, from) in α row order: 1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2.
NB201_EDGES: tuple[tuple[int, int], ...] = tuple(
    (to, src) for to in range(1, NB201_NODES) for src in range(to)
)

Pair = tuple[str, int]


def _as_int(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SearchSpaceError(f"{field} {value!r} is not an integer.")
    return value


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
        op = check_op("darts", pair[0], f"{field}[{position}] op")
        node = position // 2
        src = _as_int(pair[1], f"{field}[{position}] input")
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
    values = tuple(_as_int(v, field) for v in concat)
    allowed = range(2, DARTS_STEPS + 2)
    if not values or len(set(values)) != len(values) or any(v not in allowed for v in values):
        raise SearchSpaceError(
            f"{field} {list(values)} is not allowed; use distinct node indices in "
            f"{allowed.start}..{allowed.stop - 1}."
        )
    return values


def _canonical_json(data: Mapping[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def _hash(data: Mapping[str, Any]) -> str:
    return hashlib.sha256(_canonical_json(data).encode()).hexdigest()[:12]


@dataclass(frozen=True)
class DartsGenotype:
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
        _check_dict(data, "darts", ("normal", "normal_concat", "reduce", "reduce_concat"))
        return cls(data["normal"], data["normal_concat"], data["reduce"], data["reduce_concat"])

    def to_json(self) -> str:
        return _canonical_json(self.to_dict())

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

    @property
    def key(self) -> str:
        """Stable 12-hex-digit hash of the canonical form, to dedupe genotypes across trials."""
        return _hash(self.canonical().to_dict())

    def num_parameter_free_ops(self, cell: str = "normal") -> int:
        """Parameter-free ops (none, pools, skip) among the chosen ops of `cell` ("normal",
        "reduce" or "both"). The default is the normal cell: reduction cells are pooling-heavy
        by design, while skips piling up in the normal cell is DARTS's collapse."""
        cells = {"normal": self.normal, "reduce": self.reduce, "both": self.normal + self.reduce}
        if cell not in cells:
            raise SearchSpaceError(f"cell {cell!r} is not known; allowed: normal, reduce, both.")
        return sum(op in PARAMETER_FREE_OPS for op, _ in cells[cell])

    def __str__(self) -> str:
        return (
            f"Genotype(normal={list(self.normal)}, normal_concat={list(self.normal_concat)}, "
            f"reduce={list(self.reduce)}, reduce_concat={list(self.reduce_concat)})"
        )


def _pair_key(pair: Pair) -> tuple[int, str]:
    return pair[1], pair[0]


def _nb201_ops(ops: object) -> tuple[str, ...]:
    if isinstance(ops, (str, bytes)) or not isinstance(ops, Iterable):
        raise SearchSpaceError(f"ops {ops!r} is not a list of {len(NB201_EDGES)} op names.")
    ops = tuple(ops)
    if len(ops) != len(NB201_EDGES):
        raise SearchSpaceError(
            f"ops has {len(ops)} entries; a NB201 cell has exactly {len(NB201_EDGES)} edges."
        )
    return tuple(
        check_op("nb201", op, f"edge {to}<-{src} op") for op, (to, src) in zip(ops, NB201_EDGES)
    )


@dataclass(frozen=True)
class Nb201Genotype:
    """A NAS-Bench-201 cell: the op on each edge, in `NB201_EDGES` order (1<-0, 2<-0, 2<-1,
    3<-0, 3<-1, 3<-2), which is both the α row order and the benchmark string's order."""

    ops: tuple[str, ...]
    space: ClassVar[str] = "nb201"

    def __post_init__(self) -> None:
        object.__setattr__(self, "ops", _nb201_ops(self.ops))

    @property
    def nodes(self) -> tuple[tuple[Pair, ...], ...]:
        """Per node 1..3, its incoming (op, from-node) pairs."""
        by_edge = dict(zip(NB201_EDGES, self.ops))
        return tuple(
            tuple((by_edge[(to, src)], src) for src in range(to)) for to in range(1, NB201_NODES)
        )

    def to_dict(self) -> dict[str, Any]:
        return {"space": self.space, "ops": list(self.ops)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Nb201Genotype:
        _check_dict(data, "nb201", ("ops",))
        return cls(data["ops"])

    def to_json(self) -> str:
        return _canonical_json(self.to_dict())

    def canonical(self) -> Nb201Genotype:
        return self

    @property
    def key(self) -> str:
        """Stable 12-hex-digit hash of the canonical JSON, to dedupe genotypes across trials."""
        return _hash(self.to_dict())

    def num_parameter_free_ops(self) -> int:
        """Parameter-free ops (none, skip_connect, avg_pool_3x3) among the 6 edges."""
        return sum(op in PARAMETER_FREE_OPS for op in self.ops)

    @classmethod
    def from_string(cls, text: str) -> Nb201Genotype:
        """Parse the benchmark's own format, e.g.
        `|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+`
        `|skip_connect~0|nor_conv_3x3~1|skip_connect~2|` (one string).
        Node j's group must hold one `op~i` for each i < j (any order)."""
        text = text.strip()
        groups = text.split("+")
        if len(groups) != NB201_NODES - 1:
            raise SearchSpaceError(
                f"NB201 string {text!r} has {len(groups)} '+'-separated node groups; "
                f"expected {NB201_NODES - 1}, like '|op~0|+|op~0|op~1|+|op~0|op~1|op~2|'."
            )
        chosen: dict[tuple[int, int], str] = {}
        for to, group in enumerate(groups, start=1):
            if len(group) < 2 or not (group.startswith("|") and group.endswith("|")):
                raise SearchSpaceError(
                    f"NB201 string {text!r}: node {to} group {group!r} must look like "
                    f"'|op~i|...|'."
                )
            items = group[1:-1].split("|")
            sources = []
            for item in items:
                op, sep, src_text = item.partition("~")
                if not sep or not src_text.isdigit():
                    raise SearchSpaceError(
                        f"NB201 string {text!r}: {item!r} in node {to} is not 'op~input'."
                    )
                src = int(src_text)
                check_op("nb201", op, f"NB201 string node {to} op")
                chosen[(to, src)] = op
                sources.append(src)
            if sorted(sources) != list(range(to)):
                raise SearchSpaceError(
                    f"NB201 string {text!r}: node {to} reads inputs {sources}; it must read "
                    f"each of {list(range(to))} exactly once."
                )
        return cls(tuple(chosen[edge] for edge in NB201_EDGES))

    def __str__(self) -> str:
        return "+".join(
            "|" + "|".join(f"{op}~{src}" for op, src in node) + "|" for node in self.nodes
        )


Genotype = Union[DartsGenotype, Nb201Genotype]


def _check_dict(data: object, space: str, keys: tuple[str, ...]) -> None:
    if not isinstance(data, Mapping):
        raise SearchSpaceError(f"genotype {data!r} is not a JSON object.")
    if data.get("space", space) != space:
        raise SearchSpaceError(
            f"genotype space {data.get('space')!r} does not match the requested space {space!r}."
        )
    missing = [k for k in keys if k not in data]
    if missing:
        raise SearchSpaceError(
            f"{space} genotype has keys {sorted(map(str, data))}; it needs {sorted(keys)} "
            f"(other keys, such as 'str' or 'hash', are ignored)."
        )


def genotype_from_dict(data: Mapping[str, Any], space: str | None = None) -> Genotype:
    """Rebuild a genotype from `to_dict()` output; `space` defaults to the dict's own."""
    if not isinstance(data, Mapping):
        raise SearchSpaceError(f"genotype {data!r} is not a JSON object.")
    space = space if space is not None else data.get("space")
    if space == "darts":
        return DartsGenotype.from_dict(data)
    if space == "nb201":
        return Nb201Genotype.from_dict(data)
    raise SearchSpaceError(f"genotype space {space!r} is not known; allowed: darts, nb201.")


def genotype_hash(genotype: Genotype) -> str:
    """The genotype's `key`: a stable short hash for deduplication."""
    return genotype.key
