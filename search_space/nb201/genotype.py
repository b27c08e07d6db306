"""A NAS-Bench-201 genotype: the op on each of the cell's 6 edges, read from and written in
the benchmark's own string format."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from search_space.errors import SearchSpaceError
from search_space.genotype_io import GenotypeJson, check_genotype_dict
from search_space.nb201.ops import OPS_NB201, PARAMETER_FREE_OPS_NB201
from search_space.ops import check_op_name

NB201_NODES = 4  #: nodes of a NB201 cell, node 0 being the input
#: NB201 edges as (to, from) in α row order: 1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2.
NB201_EDGES: tuple[tuple[int, int], ...] = tuple(
    (to, src) for to in range(1, NB201_NODES) for src in range(to)
)

Pair = tuple[str, int]


def _nb201_ops(ops: object) -> tuple[str, ...]:
    if isinstance(ops, (str, bytes)) or not isinstance(ops, Iterable):
        raise SearchSpaceError(f"ops {ops!r} is not a list of {len(NB201_EDGES)} op names.")
    ops = tuple(ops)
    if len(ops) != len(NB201_EDGES):
        raise SearchSpaceError(
            f"ops has {len(ops)} entries; a NB201 cell has exactly {len(NB201_EDGES)} edges."
        )
    return tuple(
        check_op_name(OPS_NB201, "nb201", op, f"edge {to}<-{src} op")
        for op, (to, src) in zip(ops, NB201_EDGES)
    )


@dataclass(frozen=True)
class Nb201Genotype(GenotypeJson):
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
        check_genotype_dict(data, "nb201", ("ops",))
        return cls(data["ops"])

    def canonical(self) -> Nb201Genotype:
        return self

    def num_parameter_free_ops(self) -> int:
        """Parameter-free ops (none, skip_connect, avg_pool_3x3) among the 6 edges."""
        return sum(op in PARAMETER_FREE_OPS_NB201 for op in self.ops)

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
                check_op_name(OPS_NB201, "nb201", op, f"NB201 string node {to} op")
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
