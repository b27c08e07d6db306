"""The registry of search spaces, by name (as timm registers models): the one place every
dispatch to a space's builders goes through.

The names live in `search_space.catalog`, which needs no torch: the CLI's `--space` choices
and the config's allowed values come from there. A space package registers its builders when
imported; a shipped space's package is imported here the first time the space is asked for.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from search_space.catalog import SHIPPED, declare, forget, space_facts, space_names
from search_space.errors import SearchSpaceError

if TYPE_CHECKING:
    from search_space.space import SearchSpace

_SPACES: dict[str, SearchSpace] = {}


def register_space(space: SearchSpace) -> SearchSpace:
    """Add `space`; its name and its published genotypes' names must be new (a shipped
    space's package registers the facts the catalog lists for it)."""
    if space.name in _SPACES:
        raise SearchSpaceError(f"space {space.name!r} is already registered.")
    declare(space.facts)
    _SPACES[space.name] = space
    return space


def unregister_space(name: str) -> None:
    """Remove a space (tests that register a space of their own clean up with this)."""
    get_space(name)
    del _SPACES[name]
    forget(name)


def get_space(name: object) -> SearchSpace:
    """The space called `name`, else SearchSpaceError naming the allowed spaces."""
    space_facts(name)
    if name not in _SPACES and name in SHIPPED:
        importlib.import_module(f"search_space.{name}")  # registers it
    return _SPACES[name]


def all_spaces() -> tuple[SearchSpace, ...]:
    """Every known space, in `space_names()` order."""
    return tuple(get_space(name) for name in space_names())


__all__ = ["all_spaces", "get_space", "register_space", "space_names", "unregister_space"]
