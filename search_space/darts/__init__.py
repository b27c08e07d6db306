"""The DARTS search space (Liu et al., ICLR 2019): 8 ops, normal and reduction cells of 14
mixed edges, CIFAR and ImageNet evaluation networks. Registers itself as "darts", with the
names and sizes `search_space.catalog.darts` lists."""

from __future__ import annotations

from torch import nn

from search_space.catalog.darts import FACTS
from search_space.darts.derive import ALPHA_SHAPES_DARTS, derive_darts
from search_space.darts.genotype import DartsGenotype
from search_space.darts.network import NetworkCIFAR, NetworkImageNet
from search_space.darts.ops import OP_TABLE, OPS_DARTS, SEARCH_OP_TABLE
from search_space.darts.parse import parse_darts_text
from search_space.darts.published import PUBLISHED_DARTS
from search_space.darts.supernet import DartsSupernet
from search_space.registry import register_space
from search_space.space import SearchSpace


def _network(
    genotype: DartsGenotype,
    num_classes: int,
    channels: int,
    layers: int,
    auxiliary: bool,
    family: str,
    drop_path_prob: float,
    in_channels: int,
) -> nn.Module:
    network_cls = NetworkImageNet if family == "imagenet" else NetworkCIFAR
    return network_cls(
        genotype, num_classes, channels, layers, auxiliary, drop_path_prob, in_channels
    )


DARTS = register_space(
    SearchSpace(
        facts=FACTS,
        op_table=OP_TABLE,
        search_op_table=SEARCH_OP_TABLE,
        alpha_shapes=ALPHA_SHAPES_DARTS,
        genotype_type=DartsGenotype,
        derive=derive_darts,
        parse_text=parse_darts_text,
        text_form="a Genotype(...) string",
        published=PUBLISHED_DARTS,
        supernet=DartsSupernet,
        network=_network,
    )
)

__all__ = [
    "DARTS", "DartsGenotype", "DartsSupernet", "NetworkCIFAR", "NetworkImageNet", "OPS_DARTS",
]
