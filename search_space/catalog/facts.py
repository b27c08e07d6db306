"""`SpaceFacts`: what a search space names and how large it builds, without its builders, so
that a config can be checked against it without importing torch."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class SpaceFacts:
    """The torch-free part of a `search_space.space.SearchSpace` (same field names)."""

    name: str
    #: op names in α column order (part of every α file and checkpoint: never reorder)
    ops: tuple[str, ...]
    #: ops without weights (the ones DARTS collapses to)
    parameter_free_ops: frozenset[str]
    #: names of the published genotypes (unique across all spaces, case-insensitively)
    published: tuple[str, ...]
    #: layers -> how much the supernet's stride-2 stages shrink the image
    feature_stride: Callable[[int], int]
    #: (channels, layers) of the search supernet
    supernet_size: tuple[int, int]
    #: network family ("cifar", "imagenet", ...) -> default (channels, layers)
    network_sizes: Mapping[str, tuple[int, int]]
    #: whether its discrete networks can carry an auxiliary head
    auxiliary_head: bool = False
