"""Published cells users compare against, by name (`alphadarts inspect --genotype DARTS_V2`).

Sources: DARTS_V1/V2 from Liu et al. (ICLR 2019) as METHOD.md lists them; PC_DARTS and
PC_DARTS_IMAGENET from Xu et al. (ICLR 2020, yuhuixu1993/PC-DARTS genotypes.py); DrNAS and
DrNAS_IMAGENET from Chen et al. (ICLR 2021, xiangning-chen/DrNAS DARTS-space/genotypes.py);
NB201_RESNET is NAS-Bench-201's ResNet cell, NB201_ALL_SKIP the cell DARTS collapses to there.
"""

from __future__ import annotations

from search_space.genotypes import DartsGenotype, Genotype, Nb201Genotype

_CONCAT = (2, 3, 4, 5)


def _darts(normal: str, reduce: str) -> DartsGenotype:
    """Build from a compact 'op input op input ...' spelling, two pairs per node."""

    def pairs(text: str) -> list[tuple[str, int]]:
        words = text.split()
        return [(words[i], int(words[i + 1])) for i in range(0, len(words), 2)]

    return DartsGenotype(pairs(normal), _CONCAT, pairs(reduce), _CONCAT)


PUBLISHED_GENOTYPES: dict[str, Genotype] = {
    "DARTS_V1": _darts(
        "sep_conv_3x3 1 sep_conv_3x3 0  skip_connect 0 sep_conv_3x3 1 "
        "skip_connect 0 sep_conv_3x3 1  sep_conv_3x3 0 skip_connect 2",
        "max_pool_3x3 0 max_pool_3x3 1  skip_connect 2 max_pool_3x3 0 "
        "max_pool_3x3 0 skip_connect 2  skip_connect 2 avg_pool_3x3 0",
    ),
    "DARTS_V2": _darts(
        "sep_conv_3x3 0 sep_conv_3x3 1  sep_conv_3x3 0 sep_conv_3x3 1 "
        "sep_conv_3x3 1 skip_connect 0  skip_connect 0 dil_conv_3x3 2",
        "max_pool_3x3 0 max_pool_3x3 1  skip_connect 2 max_pool_3x3 1 "
        "max_pool_3x3 0 skip_connect 2  skip_connect 2 max_pool_3x3 1",
    ),
    "PC_DARTS": _darts(
        "sep_conv_3x3 1 skip_connect 0  sep_conv_3x3 0 dil_conv_3x3 1 "
        "sep_conv_5x5 0 sep_conv_3x3 1  avg_pool_3x3 0 dil_conv_3x3 1",
        "sep_conv_5x5 1 max_pool_3x3 0  sep_conv_5x5 1 sep_conv_5x5 2 "
        "sep_conv_3x3 0 sep_conv_3x3 3  sep_conv_3x3 1 sep_conv_3x3 2",
    ),
    "PC_DARTS_IMAGENET": _darts(
        "skip_connect 1 sep_conv_3x3 0  sep_conv_3x3 0 skip_connect 1 "
        "sep_conv_3x3 1 sep_conv_3x3 3  sep_conv_3x3 1 dil_conv_5x5 4",
        "sep_conv_3x3 0 skip_connect 1  dil_conv_5x5 2 max_pool_3x3 1 "
        "sep_conv_3x3 2 sep_conv_3x3 1  sep_conv_5x5 0 sep_conv_3x3 3",
    ),
    "DrNAS": _darts(
        "sep_conv_3x3 0 sep_conv_5x5 1  sep_conv_3x3 1 sep_conv_3x3 2 "
        "skip_connect 0 sep_conv_3x3 1  sep_conv_3x3 2 dil_conv_5x5 3",
        "max_pool_3x3 0 sep_conv_5x5 1  dil_conv_5x5 2 sep_conv_5x5 1 "
        "sep_conv_5x5 1 dil_conv_5x5 3  skip_connect 4 sep_conv_5x5 1",
    ),
    "DrNAS_IMAGENET": _darts(
        "sep_conv_3x3 1 sep_conv_3x3 0  sep_conv_3x3 0 sep_conv_3x3 1 "
        "sep_conv_3x3 0 dil_conv_3x3 3  skip_connect 0 sep_conv_3x3 1",
        "max_pool_3x3 0 sep_conv_3x3 1  sep_conv_3x3 0 skip_connect 2 "
        "sep_conv_3x3 0 sep_conv_3x3 2  sep_conv_3x3 3 sep_conv_3x3 1",
    ),
    "NB201_RESNET": Nb201Genotype.from_string(
        "|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|skip_connect~2|"
    ),
    "NB201_ALL_SKIP": Nb201Genotype(("skip_connect",) * 6),
}


def published_names(space: str) -> list[str]:
    """Names of the published genotypes of `space`, in registry order."""
    return [name for name, g in PUBLISHED_GENOTYPES.items() if g.space == space]
