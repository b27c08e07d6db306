"""Models and ops from a space's name: the entry points the rest of the project builds
through. Sizes, genotypes and network families are checked here, once, for every space."""

from __future__ import annotations

from torch import nn

from search_space.checks import require_positive_int
from search_space.errors import SearchSpaceError
from search_space.genotype_io import Genotype
from search_space.parse import parse_genotype
from search_space.registry import get_space
from search_space.supernet_base import Supernet


def _check_sizes(num_classes: object, channels: object, layers: object, in_channels: object):
    for field, value in (
        ("num_classes", num_classes),
        ("channels", channels),
        ("layers", layers),
        ("in_channels", in_channels),
    ):
        require_positive_int(field, value)


def build_supernet(
    space: str, num_classes: int, channels: int, layers: int, in_channels: int = 3
) -> Supernet:
    """The supernet of `space`. DARTS: `layers` cells; NB201: `layers` cells per stage (N)."""
    found = get_space(space)
    _check_sizes(num_classes, channels, layers, in_channels)
    return found.supernet(num_classes, channels, layers, in_channels)


def build_network(
    space: str,
    genotype: Genotype | str,
    num_classes: int,
    channels: int,
    layers: int,
    auxiliary: bool = False,
    family: str = "cifar",
    drop_path_prob: float = 0.0,
    in_channels: int = 3,
) -> nn.Module:
    """The discrete network of a genotype (a genotype or anything `parse_genotype` reads).

    `family` is the network family ("cifar", "imagenet" for DARTS's mobile network; the
    space's `network_sizes` keys), not a dataset name: CIFAR-100 and the offline datasets
    all use the "cifar" family (`trainables.datasets` maps each dataset to its family). Every network's forward returns (logits, logits_aux),
    logits_aux None unless training with `auxiliary`, and has a `drop_path_prob` attribute
    a trainer may set per epoch.
    """
    found = get_space(space)
    if isinstance(genotype, str):
        genotype = parse_genotype(space, genotype)
    if not isinstance(genotype, found.genotype_type):
        raise SearchSpaceError(
            f"genotype {genotype!s} belongs to the {getattr(genotype, 'space', '?')} space, "
            f"not {space}."
        )
    if family not in found.network_sizes:
        raise SearchSpaceError(
            f"network family {family!r} is not one the {space} space builds; "
            f"allowed: {', '.join(found.network_sizes)}."
        )
    if isinstance(drop_path_prob, bool) or not isinstance(drop_path_prob, (int, float)) or not (
        0.0 <= drop_path_prob < 1.0
    ):
        raise SearchSpaceError(
            f"drop_path_prob {drop_path_prob!r} is not allowed; it must lie in [0, 1)."
        )
    _check_sizes(num_classes, channels, layers, in_channels)
    return found.network(
        genotype, num_classes, channels, layers, bool(auxiliary), family, drop_path_prob,
        in_channels,
    )


def ops_for(space: str) -> tuple[str, ...]:
    """The op names of `space`, in α column order."""
    return get_space(space).ops


def build_op(
    space: str,
    name: str,
    channels: int,
    stride: int,
    affine: bool = True,
    track_running_stats: bool = True,
) -> nn.Module:
    """One op of a discrete network: C channels in, C out, spatial size divided by `stride`."""
    return get_space(space).build_op(name, channels, stride, affine, track_running_stats)


def build_search_op(space: str, name: str, channels: int, stride: int) -> nn.Module:
    """One op as the supernet of `space` holds it."""
    return get_space(space).build_search_op(name, channels, stride)
