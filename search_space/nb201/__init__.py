"""The NAS-Bench-201 search space (Dong & Yang, ICLR 2020): 5 ops on the 6 edges of one
cell, 3 stages of N cells. Registers itself as "nb201", with the names and sizes
`search_space.catalog.nb201` lists."""

from __future__ import annotations

from torch import nn

from search_space.catalog.nb201 import FACTS
from search_space.errors import SearchSpaceError
from search_space.nb201.derive import ALPHA_SHAPES_NB201, derive_nb201
from search_space.nb201.genotype import NB201_EDGES, Nb201Genotype
from search_space.nb201.network import Nb201Network
from search_space.nb201.ops import OP_TABLE, OPS_NB201, SEARCH_OP_TABLE
from search_space.nb201.published import PUBLISHED_NB201
from search_space.nb201.supernet import Nb201Supernet
from search_space.registry import register_space
from search_space.space import SearchSpace


def _network(
    genotype: Nb201Genotype,
    num_classes: int,
    channels: int,
    layers: int,
    auxiliary: bool,
    family: str,
    drop_path_prob: float,
    in_channels: int,
) -> nn.Module:
    """`layers` is N cells per stage; the one network serves every family."""
    if auxiliary:
        raise SearchSpaceError(
            "auxiliary True is not allowed for nb201; only darts networks have an auxiliary head."
        )
    return Nb201Network(genotype, num_classes, channels, layers, drop_path_prob, in_channels)


def _parse_text(text: str) -> Nb201Genotype | None:
    return Nb201Genotype.from_string(text) if text.startswith("|") else None


NB201 = register_space(
    SearchSpace(
        facts=FACTS,
        op_table=OP_TABLE,
        search_op_table=SEARCH_OP_TABLE,
        alpha_shapes=ALPHA_SHAPES_NB201,
        genotype_type=Nb201Genotype,
        derive=derive_nb201,
        parse_text=_parse_text,
        text_form="a '|op~0|+|op~0|op~1|+...' string",
        published=PUBLISHED_NB201,
        supernet=Nb201Supernet,
        network=_network,
    )
)

__all__ = ["NB201", "NB201_EDGES", "Nb201Genotype", "Nb201Network", "Nb201Supernet", "OPS_NB201"]
