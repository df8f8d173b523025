"""Turning pydantic validation errors into one clear BenchConfigError (file, key path, need).

Shared by every user-written document meterbench reads (bench files in TOML, the triage
specification, access tables and model manifests in YAML): DESIGN.md principle 4.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from harness.errors import BenchConfigError

_EXPECTED = {
    "missing": "this key to be present",
    "extra_forbidden": "no such key (check the spelling)",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "float_parsing": "a number",
    "float_type": "a number",
    "int_parsing": "an integer",
    "int_type": "an integer",
    "string_type": "a string",
    "dict_type": "a table (mapping)",
    "list_type": "a list",
    "tuple_type": "a list",
    "string_too_short": "a non-empty string",
    "string_pattern_mismatch": None,
}


class KeyPathError(BenchConfigError):
    """A cross-reference inside a document is wrong; carries the key path it concerns.

    Raised by validators (a ValueError, as pydantic wants) before the file is known:
    :func:`validation_error` or the loader names the file."""

    def __init__(self, key_path: str, message: str) -> None:
        super().__init__(message, key_path=key_path)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.key_path, self.message))


def format_loc(loc: Sequence[Any], data: Any) -> str:
    """A pydantic location as a key path: ``clauses[TRI-PWR-01].evidence[0].unit``.

    A list item that is a mapping with an ``id`` is named by its id, so the path says which
    clause is wrong rather than its position.
    """
    parts: list[str] = []
    node = data
    for part in loc:
        if isinstance(part, str) and (part.startswith("function-") or part == "[key]"):
            continue
        if isinstance(part, int) and isinstance(node, list):
            item = node[part] if 0 <= part < len(node) else None
            label = item.get("id") if isinstance(item, dict) else None
            parts.append(f"[{label}]" if isinstance(label, str) and label else f"[{part}]")
            node = item
            continue
        text = str(part)
        parts.append(text if not parts else f".{text}")
        node = node.get(part) if isinstance(node, dict) else None
    return "".join(parts) or "(top level)"


def validation_error(exc: ValidationError, source: str, data: Any) -> BenchConfigError:
    """Summarise pydantic's errors as one BenchConfigError: the first leads, others follow."""
    lines: list[tuple[str, str, str | None]] = []
    for err in exc.errors():
        ctx_error = (err.get("ctx") or {}).get("error")
        if isinstance(ctx_error, KeyPathError):
            lines.append((ctx_error.key_path or "", ctx_error.message, None))
            continue
        key_path = format_loc(err["loc"], data)
        message = err["msg"].removeprefix("Value error, ")
        expected = _EXPECTED.get(err["type"])
        if err["type"] == "extra_forbidden":
            message = "unknown key"
        elif err["type"] == "missing":
            message = "missing key"
        elif err["type"] in ("enum", "literal_error"):
            expected = f"one of {err['ctx']['expected']}"
            message = f"unknown value {err.get('input')!r}"
        lines.append((key_path, message, expected))
    # A misspelt key shows as an unknown key and a missing one: lead with the misspelling.
    lines.sort(key=lambda line: line[1] != "unknown key")
    key_path, message, expected = lines[0]
    more = [f"{k}: {m}" + (f" (expected {e})" if e else "") for k, m, e in lines[1:]]
    return BenchConfigError(message, file=source, key_path=key_path, expected=expected,
                            more=more)
