"""Read a genotype from whatever a user types after `--genotype`.

Accepted, tried in this order: a published name of any space (case-insensitive), a JSON
object (text or a path to a .json file holding `to_dict()` output), the space's own text
form (DARTS: `Genotype(...)` as the papers print it; NB201: the benchmark's string).
"""

from __future__ import annotations

import json
import os

from search_space.errors import SearchSpaceError
from search_space.genotype_io import Genotype
from search_space.genotypes import PUBLISHED_GENOTYPES, genotype_from_dict
from search_space.registry import get_space


def _from_json_text(space: str, text: str, origin: str) -> Genotype:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SearchSpaceError(
            f"genotype {origin} is not valid JSON: {exc.msg} at line {exc.lineno}."
        ) from None
    if not isinstance(data, dict):
        raise SearchSpaceError(
            f"genotype {origin} must hold a JSON object, got {type(data).__name__}."
        )
    return genotype_from_dict(data, space)


def parse_genotype(space: str, spec: str) -> Genotype:
    """A genotype of `space` from a published name, JSON text, a .json path or the space's
    own text form; SearchSpaceError otherwise."""
    found = get_space(space)
    names = ", ".join(found.published)
    if not isinstance(spec, str) or not spec.strip():
        raise SearchSpaceError(
            f"genotype {spec!r} is empty; give a name, a string or a .json file."
        )
    text = spec.strip()
    by_upper = {name.upper(): name for name in PUBLISHED_GENOTYPES}
    if text.upper() in by_upper:
        name = by_upper[text.upper()]
        genotype = PUBLISHED_GENOTYPES[name]
        if genotype.space != space:
            raise SearchSpaceError(
                f"genotype {name!r} belongs to the {genotype.space} space, not {space}; "
                f"{space} names: {names}."
            )
        return genotype
    if text.startswith("{"):
        return _from_json_text(space, text, "string")
    genotype = found.parse_text(text)
    if genotype is not None:
        return genotype
    if os.path.isfile(text):
        try:
            with open(text, encoding="utf-8") as handle:
                content = handle.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise SearchSpaceError(f"genotype file {text!r} cannot be read: {exc}.") from None
        return _from_json_text(space, content, f"file {text!r}")
    if text.lower().endswith(".json"):
        raise SearchSpaceError(f"genotype file {text!r} does not exist.")
    raise SearchSpaceError(
        f"genotype {text!r} is not a published {space} name ({names}), {found.text_form}, "
        f"a JSON object or an existing .json file."
    )
