"""Secrets named in a bench file, resolved at run time (DESIGN.md principle 4).

A bench file never holds a secret in clear: it names where one comes from, ``env:NAME``
(an environment variable) or ``file:PATH#KEY`` (a ``KEY=value`` line in a file kept out of
the repository), or ``emulator:`` (the emulated device's own secret, known to the emulator).

Resolved here and by the bench only: an instrument driver is handed the values
(:func:`resolve_references` of its options) and never reads the environment or a secrets
file itself, so the configuration layer is the one place that knows where secrets live.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from harness.errors import BenchConfigError

SCHEMES = ("env:", "file:", "emulator:")

EmulatorLookup = Callable[[str], str | None]
"""``option key -> secret`` for ``emulator:`` references (the emulated instrument's own)."""


def is_reference(value: object) -> bool:
    """Whether an option's value is a secret reference (``env:``, ``file:``, ``emulator:``)."""
    return isinstance(value, str) and value.startswith(SCHEMES)


def check_reference(value: str) -> str:
    """Refuse anything that is not a secret reference (a literal would be a secret in clear)."""
    if not value.startswith(SCHEMES):
        raise ValueError("secrets are never written in a bench file: give env:NAME, "
                         "file:PATH#KEY or emulator:")
    return value


def resolve_secret(reference: str, *, key_path: str, base: Path | None = None,
                   emulator: Callable[[], str | None] | None = None,
                   file: str | None = None) -> str:
    """The secret a reference names; errors say which file (the bench file, ``file``), key
    path and what is missing."""
    scheme, _, rest = reference.partition(":")
    if scheme == "env":
        value = os.environ.get(rest)
        if value is None:
            raise BenchConfigError(f"environment variable {rest} is not set",
                                   key_path=key_path, file=file)
        return value
    if scheme == "file":
        path_text, _, key = rest.partition("#")
        path = Path(path_text)
        if base is not None and not path.is_absolute():
            path = base / path
        try:
            lines = path.read_text().splitlines()
        except OSError as exc:
            raise BenchConfigError(f"cannot read secrets file {path}: {exc.strerror}",
                                   key_path=key_path, file=file) from None
        for line in lines:
            name, sep, value = line.partition("=")
            if sep and name.strip() == key:
                return value.strip()
        raise BenchConfigError(f"secrets file {path} has no key {key!r}",
                               key_path=key_path, file=file)
    if scheme == "emulator":
        value = emulator() if emulator is not None else None
        if value is None:
            raise BenchConfigError("emulator: secrets exist only on an emulated slot",
                                   key_path=key_path, file=file)
        return value
    raise BenchConfigError(f"unknown secret scheme {scheme!r}", key_path=key_path, file=file)


def resolve_references(options: Mapping[str, Any], *, key_path: str, base: Path | None = None,
                       emulator: EmulatorLookup | None = None,
                       file: str | None = None) -> dict[str, str]:
    """The secret each reference among ``options`` (top-level keys) names, by key.

    ``key_path`` is where the options are (``instruments.dcc.options``), for the errors;
    ``base`` the folder relative ``file:`` paths start from; ``emulator`` answers
    ``emulator:`` references by option key. Without it they are left out (unresolved: the
    instrument says so if it needs one), so a bench resolves what it can before the emulator
    is known.
    """
    resolved: dict[str, str] = {}
    for key, value in options.items():
        if not is_reference(value) or (value.startswith("emulator:") and emulator is None):
            continue
        answer = functools.partial(emulator, key) if emulator is not None else None
        resolved[key] = resolve_secret(value, key_path=f"{key_path}.{key}", base=base,
                                       emulator=answer, file=file)
    return resolved
