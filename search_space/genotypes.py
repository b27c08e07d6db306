"""Genotypes of any registered space: from a dict, their hash, the published ones by name."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from search_space.errors import SearchSpaceError
from search_space.genotype_io import Genotype
from search_space.registry import all_spaces, get_space, space_names


def genotype_from_dict(data: Mapping[str, Any], space: str | None = None) -> Genotype:
    """Rebuild a genotype from `to_dict()` output; `space` defaults to the dict's own."""
    if not isinstance(data, Mapping):
        raise SearchSpaceError(f"genotype {data!r} is not a JSON object.")
    name = space if space is not None else data.get("space")
    if name not in space_names():
        raise SearchSpaceError(
            f"genotype space {name!r} is not known; allowed: {', '.join(space_names())}."
        )
    return get_space(name).genotype_type.from_dict(data)


def genotype_hash(genotype: Genotype) -> str:
    """The genotype's `key`: a stable short hash for deduplication."""
    return genotype.key


class _Published(Mapping):
    """Every registered space's published genotypes, by name (a live view of the registry)."""

    def __getitem__(self, name: str) -> Genotype:
        for space in all_spaces():
            if name in space.published:
                return space.published[name]
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return (name for space in all_spaces() for name in space.published)

    def __len__(self) -> int:
        return sum(len(space.published) for space in all_spaces())


PUBLISHED_GENOTYPES: Mapping[str, Genotype] = _Published()

