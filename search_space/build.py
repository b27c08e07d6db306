"""Models from names: the two entry points the rest of the project builds through."""

from __future__ import annotations

from torch import nn

from search_space.checks import reduction_layers, require_positive_int
from search_space.errors import SearchSpaceError
from search_space.genotypes import Genotype
from search_space.network_darts import NetworkCIFAR, NetworkImageNet
from search_space.network_nb201 import Nb201Network
from search_space.operations import check_space
from search_space.parse import parse_genotype
from search_space.supernet_base import Supernet
from search_space.supernet_darts import DartsSupernet
from search_space.supernet_nb201 import Nb201Supernet

NETWORK_DATASETS: tuple[str, ...] = ("cifar", "imagenet")


def build_supernet(
    space: str, num_classes: int, channels: int, layers: int, in_channels: int = 3
) -> Supernet:
    """The supernet of `space`. DARTS: `layers` cells; NB201: `layers` cells per stage (N)."""
    check_space(space)
    for field, value in (("num_classes", num_classes), ("channels", channels), ("layers", layers)):
        require_positive_int(field, value)
    if space == "darts":
        return DartsSupernet(num_classes, channels, layers, in_channels)
    return Nb201Supernet(num_classes, channels, layers, in_channels)


def feature_stride(space: str, layers: int) -> int:
    """How much the supernet's stride-2 stages shrink the image: its last feature map is
    `image_size / stride` wide, and the MIM decoder maps it back by this factor, so the
    image size must be a multiple of it. DARTS: 2 per distinct reduction cell (at
    `layers // 3` and `2 * layers // 3`); NB201: 4 (two residual reduction blocks)."""
    check_space(space)
    require_positive_int("layers", layers)
    if space == "darts":
        return 2 ** len(reduction_layers(layers))
    return 4


def build_network(
    space: str,
    genotype: Genotype | str,
    num_classes: int,
    channels: int,
    layers: int,
    auxiliary: bool = False,
    dataset: str = "cifar",
    drop_path_prob: float = 0.0,
    in_channels: int = 3,
) -> nn.Module:
    """The discrete network of a genotype (a Genotype or anything `parse_genotype` reads).

    DARTS: `dataset` "cifar" gives NetworkCIFAR, "imagenet" the 224x224 mobile network.
    NB201: `layers` is N cells per stage; there is no auxiliary head. Every network's forward
    returns (logits, logits_aux), logits_aux None unless training with `auxiliary`, and has a
    `drop_path_prob` attribute a trainer may set per epoch.
    """
    check_space(space)
    if isinstance(genotype, str):
        genotype = parse_genotype(space, genotype)
    if getattr(genotype, "space", None) != space:
        raise SearchSpaceError(
            f"genotype {genotype!s} belongs to the {getattr(genotype, 'space', '?')} space, "
            f"not {space}."
        )
    if dataset not in NETWORK_DATASETS:
        raise SearchSpaceError(
            f"dataset {dataset!r} is not a network kind; allowed: {', '.join(NETWORK_DATASETS)}."
        )
    if isinstance(drop_path_prob, bool) or not isinstance(drop_path_prob, (int, float)) or not (
        0.0 <= drop_path_prob < 1.0
    ):
        raise SearchSpaceError(
            f"drop_path_prob {drop_path_prob!r} is not allowed; it must lie in [0, 1)."
        )
    for field, value in (("num_classes", num_classes), ("channels", channels), ("layers", layers)):
        require_positive_int(field, value)
    if space == "nb201":
        if auxiliary:
            raise SearchSpaceError(
                "auxiliary True is not allowed for nb201; "
                "only darts networks have an auxiliary head."
            )
        return Nb201Network(genotype, num_classes, channels, layers, drop_path_prob, in_channels)
    network_cls = NetworkImageNet if dataset == "imagenet" else NetworkCIFAR
    return network_cls(
        genotype, num_classes, channels, layers, auxiliary, drop_path_prob, in_channels
    )
