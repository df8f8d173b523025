"""Where the DUIS tests find DCC's reference requests (read in place, never copied)."""

from __future__ import annotations

from pathlib import Path

import pytest

REFERENCE_DIR = Path(__file__).resolve().parents[3].parent / "shared" / "reference" / "duis"
"""DCC's example requests in ../shared/reference/duis."""


def reference_bytes(name: str) -> bytes:
    """One reference request's bytes; fails loudly if ../shared is not beside the repo."""
    path = REFERENCE_DIR / name
    if not path.is_file():
        pytest.fail(f"DUIS reference request missing: {path} (../shared must be beside the repo)")
    return path.read_bytes()
