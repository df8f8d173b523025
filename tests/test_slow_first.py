"""The conftest's list of slow files names files that exist: a renamed file would silently
fall back to the end of the queue, where one worker runs it alone."""

from __future__ import annotations

from pathlib import Path

from _slow_first import SLOW_FIRST

REPO = Path(__file__).resolve().parent.parent


def test_every_slow_file_listed_exists() -> None:
    missing = [name for name in SLOW_FIRST if not (REPO / name).is_file()]
    assert not missing, f"tests/_slow_first.py SLOW_FIRST names missing files: {missing}"
