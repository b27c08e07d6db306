"""What every space's genotype shares: canonical JSON, a stable short hash, dict checks."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any, ClassVar, Protocol, runtime_checkable

from search_space.errors import SearchSpaceError


def canonical_json(data: Mapping[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


class GenotypeJson:
    """Mixin for a genotype class with `to_dict()` and `canonical()`: JSON and the hash."""

    def to_json(self) -> str:
        return canonical_json(self.to_dict())  # type: ignore[attr-defined]

    @property
    def key(self) -> str:
        """Stable 12-hex-digit hash of the canonical form, to dedupe genotypes across trials."""
        data = self.canonical().to_dict()  # type: ignore[attr-defined]
        return hashlib.sha256(canonical_json(data).encode()).hexdigest()[:12]


def as_int(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SearchSpaceError(f"{field} {value!r} is not an integer.")
    return value


def check_genotype_dict(data: object, space: str, keys: tuple[str, ...]) -> Mapping[str, Any]:
    """`data` as a genotype dict of `space` holding `keys`, else SearchSpaceError."""
    if not isinstance(data, Mapping):
        raise SearchSpaceError(f"genotype {data!r} is not a JSON object.")
    if data.get("space", space) != space:
        raise SearchSpaceError(
            f"genotype space {data.get('space')!r} does not match the requested space {space!r}."
        )
    missing = [k for k in keys if k not in data]
    if missing:
        raise SearchSpaceError(
            f"{space} genotype has keys {sorted(map(str, data))}; it needs {sorted(keys)} "
            f"(other keys, such as 'str' or 'hash', are ignored)."
        )
    return data


@runtime_checkable
class Genotype(Protocol):
    """What the project reads from any space's genotype (see `search_space.space`)."""

    space: ClassVar[str]

    def to_dict(self) -> dict[str, Any]: ...

    def to_json(self) -> str: ...

    @property
    def key(self) -> str: ...

    def canonical(self) -> Genotype: ...

    def num_parameter_free_ops(self) -> int: ...
