"""Published NAS-Bench-201 cells, by name: NB201_RESNET is the benchmark's ResNet cell,
NB201_ALL_SKIP the cell DARTS collapses to there (CIFAR-10 test 54.30)."""

from __future__ import annotations

from search_space.nb201.genotype import Nb201Genotype

PUBLISHED_NB201: dict[str, Nb201Genotype] = {
    "NB201_RESNET": Nb201Genotype.from_string(
        "|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|skip_connect~2|"
    ),
    "NB201_ALL_SKIP": Nb201Genotype(("skip_connect",) * 6),
}
