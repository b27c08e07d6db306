"""Argument checks shared by the model builders: bad sizes fail at the door, in words."""

from __future__ import annotations

from search_space.errors import SearchSpaceError


def require_positive_int(field: str, value: object) -> int:
    """Return `value` if it is an int >= 1, else raise SearchSpaceError naming `field`."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SearchSpaceError(f"{field} {value!r} is not allowed; it must be a positive integer.")
    return value
