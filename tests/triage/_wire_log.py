"""pytest plugin for subprocess runs: the emulated meters' log of what reached their optical
port (``W1``/``E2`` frames) written to ``$MB_WIRE_LOG``, one line per frame, as it arrives.

With ``$MB_WIRE_HOLD`` set to a text (e.g. ``E2 RST.CERT``), the meter that receives a frame
matching it never answers: the run stays with that command on the wire until it is killed.
"""

from __future__ import annotations

import logging
import os
import threading

import pytest

_LOGGER = "meterbench.emulator.optical"


class WireLog(logging.Handler):
    """Appends each received-frame line to a file, flushed at once; may hold the meter."""

    def __init__(self, path: str, hold: str | None) -> None:
        super().__init__(logging.INFO)
        self.file = open(path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115
        self.hold = hold

    def emit(self, record: logging.LogRecord) -> None:
        line = record.getMessage()
        if not line.startswith("optical port received"):
            return
        self.file.write(line + "\n")
        self.file.flush()
        os.fsync(self.file.fileno())
        if self.hold and line.endswith(self.hold):
            threading.Event().wait()  # the meter never answers this frame


def pytest_configure(config: pytest.Config) -> None:
    path = os.environ.get("MB_WIRE_LOG")
    if path:
        logger = logging.getLogger(_LOGGER)
        logger.setLevel(logging.INFO)
        logger.addHandler(WireLog(path, os.environ.get("MB_WIRE_HOLD")))
