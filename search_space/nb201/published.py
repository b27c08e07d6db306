"""Published NAS-Bench-201 cells, by name; `search_space.catalog.nb201` lists them."""

from __future__ import annotations

from search_space.catalog.nb201 import PUBLISHED_CELLS
from search_space.nb201.genotype import Nb201Genotype

PUBLISHED_NB201: dict[str, Nb201Genotype] = {
    name: Nb201Genotype.from_string(text) for name, text in PUBLISHED_CELLS.items()
}
