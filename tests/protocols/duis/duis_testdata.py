"""Where the DUIS tests find DCC's reference requests (read in place, never copied)."""

from __future__ import annotations

from pathlib import Path

import pytest

REFERENCE_DIR = Path(__file__).resolve().parents[3].parent / "shared" / "reference" / "duis"
"""DCC's example requests in ../shared/reference/duis."""


def reference_bytes(name: str) -> bytes:
    """One reference request's bytes. Without ../shared beside the checkout (a clone on its
    own) the test is skipped, saying why; with it, a missing file fails loudly."""
    path = REFERENCE_DIR / name
    if not REFERENCE_DIR.is_dir():
        pytest.skip(f"DCC's reference requests are not beside this checkout ({REFERENCE_DIR})")
    if not path.is_file():
        pytest.fail(f"DUIS reference request missing: {path} (../shared must be beside the repo)")
    return path.read_bytes()
