"""The DARTS space's names (Liu et al., ICLR 2019): its ops, its macro layout's reduction
cells and the published cells users compare against (`inspect --genotype DARTS_V2`).

Sources of the cells: DARTS_V1/V2 from Liu et al. (ICLR 2019) as docs/method.md lists them;
PC_DARTS and PC_DARTS_IMAGENET from Xu et al. (ICLR 2020, yuhuixu1993/PC-DARTS genotypes.py);
DrNAS and DrNAS_IMAGENET from Chen et al. (ICLR 2021, xiangning-chen/DrNAS
DARTS-space/genotypes.py).
"""

from __future__ import annotations

from search_space.catalog.facts import SpaceFacts

#: in α column order (docs/method.md)
OPS: tuple[str, ...] = (
    "none",
    "max_pool_3x3",
    "avg_pool_3x3",
    "skip_connect",
    "sep_conv_3x3",
    "sep_conv_5x5",
    "dil_conv_3x3",
    "dil_conv_5x5",
)

PARAMETER_FREE_OPS: frozenset[str] = frozenset({"none", "max_pool_3x3", "avg_pool_3x3", "skip_connect"})

#: name -> (normal cell, reduction cell), each as 'op input op input ...', two pairs per node
#: (search_space.darts.published builds the genotypes)
PUBLISHED_CELLS: dict[str, tuple[str, str]] = {
    "DARTS_V1": (
        "sep_conv_3x3 1 sep_conv_3x3 0  skip_connect 0 sep_conv_3x3 1 "
        "skip_connect 0 sep_conv_3x3 1  sep_conv_3x3 0 skip_connect 2",
        "max_pool_3x3 0 max_pool_3x3 1  skip_connect 2 max_pool_3x3 0 "
        "max_pool_3x3 0 skip_connect 2  skip_connect 2 avg_pool_3x3 0",
    ),
    "DARTS_V2": (
        "sep_conv_3x3 0 sep_conv_3x3 1  sep_conv_3x3 0 sep_conv_3x3 1 "
        "sep_conv_3x3 1 skip_connect 0  skip_connect 0 dil_conv_3x3 2",
        "max_pool_3x3 0 max_pool_3x3 1  skip_connect 2 max_pool_3x3 1 "
        "max_pool_3x3 0 skip_connect 2  skip_connect 2 max_pool_3x3 1",
    ),
    "PC_DARTS": (
        "sep_conv_3x3 1 skip_connect 0  sep_conv_3x3 0 dil_conv_3x3 1 "
        "sep_conv_5x5 0 sep_conv_3x3 1  avg_pool_3x3 0 dil_conv_3x3 1",
        "sep_conv_5x5 1 max_pool_3x3 0  sep_conv_5x5 1 sep_conv_5x5 2 "
        "sep_conv_3x3 0 sep_conv_3x3 3  sep_conv_3x3 1 sep_conv_3x3 2",
    ),
    "PC_DARTS_IMAGENET": (
        "skip_connect 1 sep_conv_3x3 0  sep_conv_3x3 0 skip_connect 1 "
        "sep_conv_3x3 1 sep_conv_3x3 3  sep_conv_3x3 1 dil_conv_5x5 4",
        "sep_conv_3x3 0 skip_connect 1  dil_conv_5x5 2 max_pool_3x3 1 "
        "sep_conv_3x3 2 sep_conv_3x3 1  sep_conv_5x5 0 sep_conv_3x3 3",
    ),
    "DrNAS": (
        "sep_conv_3x3 0 sep_conv_5x5 1  sep_conv_3x3 1 sep_conv_3x3 2 "
        "skip_connect 0 sep_conv_3x3 1  sep_conv_3x3 2 dil_conv_5x5 3",
        "max_pool_3x3 0 sep_conv_5x5 1  dil_conv_5x5 2 sep_conv_5x5 1 "
        "sep_conv_5x5 1 dil_conv_5x5 3  skip_connect 4 sep_conv_5x5 1",
    ),
    "DrNAS_IMAGENET": (
        "sep_conv_3x3 1 sep_conv_3x3 0  sep_conv_3x3 0 sep_conv_3x3 1 "
        "sep_conv_3x3 0 dil_conv_3x3 3  skip_connect 0 sep_conv_3x3 1",
        "max_pool_3x3 0 sep_conv_3x3 1  sep_conv_3x3 0 skip_connect 2 "
        "sep_conv_3x3 0 sep_conv_3x3 2  sep_conv_3x3 3 sep_conv_3x3 1",
    ),
}


def reduction_layers(layers: int) -> tuple[int, ...]:
    """Indices of the DARTS reduction cells: `layers // 3` and `2 * layers // 3` (one cell
    when they coincide, for layers < 3)."""
    return tuple(sorted({layers // 3, 2 * layers // 3}))


def feature_stride(layers: int) -> int:
    """Each reduction cell halves the image."""
    return 2 ** len(reduction_layers(layers))


FACTS = SpaceFacts(
    name="darts",
    ops=OPS,
    parameter_free_ops=PARAMETER_FREE_OPS,
    published=tuple(PUBLISHED_CELLS),
    feature_stride=feature_stride,
    supernet_size=(16, 8),
    network_sizes={"cifar": (36, 20), "imagenet": (48, 14)},
    auxiliary_head=True,
)
