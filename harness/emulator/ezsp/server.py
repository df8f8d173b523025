"""The emulated EZSP NCP on loopback: a TCP listener a host opens as ``socket://host:port``.

One host at a time (as one USB serial port; the newest connection takes it over, see
:class:`~harness.emulator.loopback.LoopbackSerialServer`): the bytes the host writes go to the
:class:`~harness.emulator.ezsp.engine.EzspNcpEngine`, its answer goes back at once, and every
``tick_s`` its due callbacks (and ASH retransmissions) are sent.
"""

from __future__ import annotations

from harness.emulator.ezsp.engine import EzspNcpEngine
from harness.emulator.loopback import LoopbackSerialServer


class EzspNcpServer(LoopbackSerialServer):
    """An EZSP NCP behind a loopback TCP port."""

    name = "ezsp ncp"

    def __init__(self, engine: EzspNcpEngine, host: str = "127.0.0.1", port: int = 0,
                 tick_s: float = 0.01) -> None:
        self.engine = engine
        super().__init__(host, port, tick_s)

    def received(self, data: bytes, now: float) -> bytes:
        """The NCP's answer to the host's bytes (ASH frames)."""
        return self.engine.receive(data, now)

    def due(self, now: float) -> bytes:
        """Callbacks and ASH retransmissions due by ``now``."""
        return self.engine.due(now)
