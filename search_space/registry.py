"""The registry of search spaces, by name (as timm registers models): the one place the CLI's
`--space` choices, the config's allowed values and every dispatch come from.

A space package registers itself when imported; `search_space/__init__.py` imports each
shipped space package, one line per space.
"""

from __future__ import annotations

from search_space.errors import SearchSpaceError
from search_space.space import SearchSpace

_SPACES: dict[str, SearchSpace] = {}


def register_space(space: SearchSpace) -> SearchSpace:
    """Add `space`; its name and its published genotypes' names must be new."""
    if space.name in _SPACES:
        raise SearchSpaceError(f"space {space.name!r} is already registered.")
    taken = {name.upper() for other in _SPACES.values() for name in other.published}
    clashes = sorted(name for name in space.published if name.upper() in taken)
    if clashes:
        raise SearchSpaceError(
            f"space {space.name!r} publishes {clashes}, names another space already uses."
        )
    _SPACES[space.name] = space
    return space


def unregister_space(name: str) -> None:
    """Remove a space (tests that register a space of their own clean up with this)."""
    get_space(name)
    del _SPACES[name]


def get_space(name: object) -> SearchSpace:
    """The space called `name`, else SearchSpaceError naming the allowed spaces."""
    if not isinstance(name, str) or name not in _SPACES:
        raise SearchSpaceError(
            f"space {name!r} is not known; allowed: {', '.join(space_names())}."
        )
    return _SPACES[name]


def space_names() -> tuple[str, ...]:
    """Registered space names, in registration order."""
    return tuple(_SPACES)


def all_spaces() -> tuple[SearchSpace, ...]:
    return tuple(_SPACES.values())
