"""The names a config or a command line is checked against, without importing torch: the
search spaces with what each one names (ops, published genotypes, network families, feature
stride), and the activation-checkpointing modes.

Validating a config and printing `--help` must not pay for torch. The torch modules of
`search_space` read their names from here, so each list exists once. The shipped spaces are
known from the start; `search_space.registry.register_space` adds a space defined elsewhere
(a user's, a test's) and `unregister_space` removes it, so the names here are always the
registry's.
"""

from __future__ import annotations

from search_space.catalog import darts, nb201
from search_space.catalog.facts import SpaceFacts
from search_space.checks import require_positive_int
from search_space.errors import SearchSpaceError

#: `none`: keep every activation; `cells`: keep each search cell's inputs and recompute the
#: cell in backward; `first_stage`: the same for the cells at the input's resolution only
#: (up to the first reduction), which hold most of the activations for a third of the
#: compute; `mixed_ops`: keep each cell's preprocessed inputs and node sums, recompute every
#: mixed edge (search_space.checkpointing; docs/benchmarks.md measures them).
CHECKPOINT_MODES: tuple[str, ...] = ("none", "cells", "first_stage", "mixed_ops")

#: the spaces shipped here, each listed in a module of this package and built by the package
#: `search_space.<name>`, which registers its builders when imported (search_space.registry
#: imports it on first use)
_SHIPPED_FACTS: tuple[SpaceFacts, ...] = (darts.FACTS, nb201.FACTS)
SHIPPED: tuple[str, ...] = tuple(facts.name for facts in _SHIPPED_FACTS)

_KNOWN: dict[str, SpaceFacts] = {facts.name: facts for facts in _SHIPPED_FACTS}


def space_names() -> tuple[str, ...]:
    """The known spaces: the shipped ones, then those registered since, in that order."""
    return tuple(_KNOWN)


def space_facts(name: object) -> SpaceFacts:
    """What the space called `name` names, else SearchSpaceError naming the allowed spaces."""
    if not isinstance(name, str) or name not in _KNOWN:
        raise SearchSpaceError(f"space {name!r} is not known; allowed: {', '.join(space_names())}.")
    return _KNOWN[name]


def feature_stride(space: str, layers: int) -> int:
    """How much the supernet of `space` with `layers` shrinks the image: the image size must
    be a multiple of it for the MIM decoder to map the last feature map back exactly."""
    facts = space_facts(space)
    require_positive_int("layers", layers)
    return facts.feature_stride(layers)


def published_names(space: str) -> list[str]:
    """Names of the published genotypes of `space`, in their registry order."""
    return list(space_facts(space).published)


def declare(facts: SpaceFacts) -> None:
    """Make a space known (search_space.registry.register_space, before it registers the
    builders). A shipped space declares the facts it was listed with; a new space's name and
    its published genotypes' names must be new."""
    if facts.name in _KNOWN:
        if _KNOWN[facts.name] != facts:
            raise SearchSpaceError(f"space {facts.name!r} is already registered.")
        return
    taken = {name.upper() for other in _KNOWN.values() for name in other.published}
    clashes = sorted(name for name in facts.published if name.upper() in taken)
    if clashes:
        raise SearchSpaceError(
            f"space {facts.name!r} publishes {clashes}, names another space already uses."
        )
    _KNOWN[facts.name] = facts


def forget(name: str) -> None:
    """Remove a space (search_space.registry.unregister_space)."""
    del _KNOWN[name]


__all__ = [
    "CHECKPOINT_MODES",
    "SHIPPED",
    "SpaceFacts",
    "declare",
    "feature_stride",
    "forget",
    "published_names",
    "space_facts",
    "space_names",
]
