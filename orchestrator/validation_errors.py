"""Pydantic's validation errors as the one line a user reads: field, value, what is allowed."""

from __future__ import annotations

from pydantic import ValidationError


def describe_validation_error(exc: ValidationError, source: str | None = None,
                              with_input: bool = True) -> str:
    """`field=value: message; ...`, prefixed with `invalid config (source): ` when a source
    is given. `with_input=False` leaves the value out, for callers that name it themselves."""
    parts = []
    for error in exc.errors():
        field = ".".join(str(p) for p in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            parts.append(f"{field}: unknown field")
        elif error["type"] == "missing":
            parts.append(f"{field}: required")
        elif isinstance(error.get("input"), dict):
            # a rule across a section's fields: the message names them and their values
            parts.append(f"{field or 'config'}: {message}")
        elif with_input:
            parts.append(f"{field or 'config'}={error.get('input')!r}: {message}")
        else:
            parts.append(f"{field}: {message}" if field else message)
    text = "; ".join(parts)
    return f"invalid config ({source}): {text}" if source is not None else text
