"""YAML reading shared by the triage spec, site access tables and model manifests.

Every user mistake becomes one :class:`BenchConfigError` naming the file, the key path and
what was expected (DESIGN.md principle 4), never a traceback.  Duplicate keys are errors:
PyYAML would otherwise keep the last one silently, and a spec must say one thing per key.
"""

from __future__ import annotations

from typing import Any

import yaml

from harness.config.errors import KeyPathError, format_loc, validation_error
from harness.errors import BenchConfigError

__all__ = ["KeyPathError", "format_loc", "parse_yaml", "validation_error"]

class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key written twice in one mapping."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def parse_yaml(text: str, source: str) -> Any:
    """Parse YAML text (safe subset, unique keys); errors name ``source`` and the line."""
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise BenchConfigError(f"not valid YAML: {problem}", file=source,
                               key_path=where) from None
