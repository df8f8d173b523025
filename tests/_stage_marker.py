"""pytest plugin for signal tests: appends ``<time> <nodeid>`` to ``$MB_STAGE_FILE`` as each
test starts, so a test can send a signal at a chosen stage of a run instead of sleeping."""

from __future__ import annotations

import os
import time

import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> None:
    """One line per test as its body starts, flushed to disk at once."""
    path = os.environ.get("MB_STAGE_FILE")
    if not path:
        return
    with open(path, "a") as out:
        out.write(f"{time.time():.6f} {item.nodeid}\n")
        out.flush()
        os.fsync(out.fileno())
