"""Fixtures of the emulator tests: exceptions the server guards caught."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.emulator.guard import add_error_hook, remove_error_hook


@pytest.fixture
def server_errors() -> Iterator[list[tuple[str, BaseException]]]:
    """Every exception a server guard caught while the test ran."""
    events: list[tuple[str, BaseException]] = []

    def hook(server: str, exc: BaseException) -> None:
        events.append((server, exc))

    add_error_hook(hook)
    yield events
    remove_error_hook(hook)
