"""Shared helpers for meterbench's own tests."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

pytest_plugins = ["pytester"]


@pytest.fixture(autouse=True)
def _private_lock_dir(tmp_path_factory: pytest.TempPathFactory,
                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Bench locks of the project's own tests live in a temporary folder, never the user's."""
    monkeypatch.setenv("MB_LOCK_DIR", str(tmp_path_factory.getbasetemp() / "locks"))
