"""Published DARTS cells users compare against, by name (`inspect --genotype DARTS_V2`).

Sources: DARTS_V1/V2 from Liu et al. (ICLR 2019) as docs/method.md lists them; PC_DARTS and
PC_DARTS_IMAGENET from Xu et al. (ICLR 2020, yuhuixu1993/PC-DARTS genotypes.py); DrNAS and
DrNAS_IMAGENET from Chen et al. (ICLR 2021, xiangning-chen/DrNAS DARTS-space/genotypes.py).
"""

from __future__ import annotations

from search_space.darts.genotype import DartsGenotype

_CONCAT = (2, 3, 4, 5)


def _darts(normal: str, reduce: str) -> DartsGenotype:
    """Build from a compact 'op input op input ...' spelling, two pairs per node."""

    def pairs(text: str) -> list[tuple[str, int]]:
        words = text.split()
        return [(words[i], int(words[i + 1])) for i in range(0, len(words), 2)]

    return DartsGenotype(pairs(normal), _CONCAT, pairs(reduce), _CONCAT)


PUBLISHED_DARTS: dict[str, DartsGenotype] = {
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
}
