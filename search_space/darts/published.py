"""Published DARTS cells users compare against, by name (`inspect --genotype DARTS_V2`);
`search_space.catalog.darts` lists them, with their sources."""

from __future__ import annotations

from search_space.catalog.darts import PUBLISHED_CELLS
from search_space.darts.genotype import DartsGenotype

_CONCAT = (2, 3, 4, 5)


def _darts(normal: str, reduce: str) -> DartsGenotype:
    """Build from a compact 'op input op input ...' spelling, two pairs per node."""

    def pairs(text: str) -> list[tuple[str, int]]:
        words = text.split()
        return [(words[i], int(words[i + 1])) for i in range(0, len(words), 2)]

    return DartsGenotype(pairs(normal), _CONCAT, pairs(reduce), _CONCAT)


PUBLISHED_DARTS: dict[str, DartsGenotype] = {
    name: _darts(normal, reduce) for name, (normal, reduce) in PUBLISHED_CELLS.items()
}
