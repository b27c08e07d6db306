"""The NAS-Bench-201 space's names (Dong & Yang, ICLR 2020): its ops and its published
cells. NB201_RESNET is the benchmark's ResNet cell, NB201_ALL_SKIP the cell DARTS collapses
to there (CIFAR-10 test 54.30)."""

from __future__ import annotations

from search_space.catalog.facts import SpaceFacts

#: in α column order
OPS: tuple[str, ...] = (
    "none",
    "skip_connect",
    "nor_conv_1x1",
    "nor_conv_3x3",
    "avg_pool_3x3",
)

PARAMETER_FREE_OPS: frozenset[str] = frozenset({"none", "skip_connect", "avg_pool_3x3"})

#: name -> the cell in the benchmark's string form (search_space.nb201.published builds them)
PUBLISHED_CELLS: dict[str, str] = {
    "NB201_RESNET": "|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|skip_connect~2|",
    "NB201_ALL_SKIP": "|skip_connect~0|+|skip_connect~0|skip_connect~1|"
                      "+|skip_connect~0|skip_connect~1|skip_connect~2|",
}


def feature_stride(layers: int) -> int:
    """Two residual reduction blocks, whatever the number of cells per stage."""
    return 4


FACTS = SpaceFacts(
    name="nb201",
    ops=OPS,
    parameter_free_ops=PARAMETER_FREE_OPS,
    published=tuple(PUBLISHED_CELLS),
    feature_stride=feature_stride,
    supernet_size=(16, 5),
    network_sizes={"cifar": (16, 5), "imagenet": (16, 5)},
)
