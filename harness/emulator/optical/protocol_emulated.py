"""pyserial's ``emulated://`` ports: an emulated meter's optical port in the probe's own process.

The line is a plain socket's (the meter takes the probe's settings to match its own) without
the socket: a write hands the bytes to the meter's port (:class:`MeterLink`), which acts on
them as its socket loop would, and a read takes what the meter has sent by then, waiting, as
a serial port does, up to the port's timeout. So on a fast bench an exchange costs the meter's
own work and no thread wake-ups, which is what bounds TRI-DIAG-01's clock reads there.

Only the process that started the emulated bench can open its ports (the registry is the
process's); pyserial finds this module by the URL's scheme once a port is registered
(``serial.protocol_handler_packages``), so the drivers open it as any other URL.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

import serial


class MeterLink(Protocol):
    """One probe's line to the meter (:class:`harness.emulator.optical.server.MeterLink`)."""

    @property
    def current(self) -> bool: ...
    def feed(self, data: bytes) -> None: ...
    def next_due(self) -> float | None: ...
    def step(self, deliver: Callable[[bytes, int], None]) -> None: ...


class OpticalPortServer(Protocol):
    """What this port needs of the meter's port (:mod:`harness.emulator.optical.server`)."""

    def attach(self) -> MeterLink: ...
    def paced(self, data: bytes, baud: int) -> list[tuple[float, bytes]]: ...


SCHEME = "emulated"
_PACKAGE = __name__.rpartition(".")[0]
_numbers = itertools.count(1)
_lock = threading.Lock()
_ports: dict[str, OpticalPortServer] = {}
INPUT_BUFFER = 4096
"""Bytes a port holds for a probe that does not read them (a UART's FIFO and driver buffer);
beyond it the oldest are lost, as on a serial line, so memory stays bounded."""
NOTHING_COMING_S = 0.2
"""A read with no timeout and nothing under way looks again this often (a real port blocks)."""


def register(server: OpticalPortServer) -> str:
    """Make ``server`` reachable in this process; its ``emulated://`` URL."""
    with _lock:
        url = f"{SCHEME}://optical-{next(_numbers)}"
        _ports[url] = server
        if _PACKAGE not in serial.protocol_handler_packages:
            serial.protocol_handler_packages.append(_PACKAGE)
    return url


def unregister(url: str) -> None:
    """The port is gone: a probe opening ``url`` now gets an error saying so."""
    with _lock:
        _ports.pop(url.lower(), None)


class Serial(serial.SerialBase):
    """A serial port whose far end is an emulated meter in this process."""

    peer_in_thread = True
    """The meter acts in the caller's own thread, inside its writes and reads, and every
    answer it has scheduled is handed over by a read that waits until it is due: a silence
    this port reads out is the meter's, however busy the host (a driver need not wait out a
    busy host's floor, see harness.drivers.silence)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._link: MeterLink | None = None
        self._server: OpticalPortServer | None = None
        self._received = bytearray()
        self._coming: deque[tuple[float, bytes]] = deque()  # (due, piece) not yet arrived
        super().__init__(*args, **kwargs)

    def open(self) -> None:
        """Attach to the registered meter's port (its session starts afresh)."""
        if self.port is None:
            raise serial.SerialException("Port must be configured before it can be used.")
        if self.is_open:
            raise serial.SerialException("Port is already open.")
        url = str(self.port).lower()
        with _lock:
            server = _ports.get(url)
        if server is None:
            raise serial.SerialException(
                f"{self.port}: no emulated meter port of that name in this process (an "
                "emulated:// port is opened only by the process that runs its emulated bench)")
        self._server = server
        self._link = server.attach()
        self._received.clear()
        self._coming.clear()
        self.is_open = True

    def close(self) -> None:
        """Detach; what the meter had still to send is lost, as on a closed socket."""
        self._link = None
        self.is_open = False

    def _reconfigure_port(self, force_update: bool = False) -> None:
        """Nothing to send: the meter takes the probe's settings to match (a raw line)."""

    def from_url(self, url: str) -> str:
        """The URL is the port's name."""
        return url

    def _take(self, data: bytes, baud: int) -> None:
        assert self._server is not None
        self._coming.extend(self._server.paced(data, baud))

    def _pump(self) -> MeterLink:
        """Let the meter act on what has landed; move what has arrived to the input."""
        link = self._link
        if not self.is_open or link is None:
            raise serial.PortNotOpenError()
        if not link.current:
            raise serial.SerialException(f"{self.port}: the meter's port is no longer this "
                                         "probe's (another probe took it over, or it stopped)")
        link.step(self._take)
        now = time.monotonic()
        while self._coming and self._coming[0][0] <= now:
            self._received += self._coming.popleft()[1]
        if len(self._received) > INPUT_BUFFER:
            del self._received[:-INPUT_BUFFER]
        return link

    def _next_due(self, link: MeterLink) -> float | None:
        times = [t for t in (link.next_due(), self._coming[0][0] if self._coming else None)
                 if t is not None]
        return min(times, default=None)

    @property
    def in_waiting(self) -> int:
        """Bytes ready to read without waiting."""
        self._pump()
        return len(self._received)

    def read(self, size: int = 1) -> bytes:
        """Up to ``size`` bytes: waits until they are all in or the port's timeout passed."""
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        out = bytearray()
        while True:
            link = self._pump()
            take = min(size - len(out), len(self._received))
            out += self._received[:take]
            del self._received[:take]
            now = time.monotonic()
            if len(out) >= size or (deadline is not None and now >= deadline):
                return bytes(out)
            wake = self._next_due(link)
            if wake is None:
                wake = now + NOTHING_COMING_S
            if deadline is not None:
                wake = min(wake, deadline)
            if wake > now:
                time.sleep(wake - now)

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        """The bytes go onto the line to the meter (it acts on them once they land)."""
        link = self._pump()
        data = bytes(data)
        link.feed(data)
        self._pump()
        return len(data)

    def flush(self) -> None:
        """Nothing is held back."""

    def reset_input_buffer(self) -> None:
        """Drop what has arrived (what is still on its way comes later)."""
        self._pump()
        self._received.clear()

    def reset_output_buffer(self) -> None:
        """Nothing is held back."""

    @property
    def cts(self) -> bool:
        """An optical head has no modem lines: asserted."""
        return True

    @property
    def dsr(self) -> bool:
        """An optical head has no modem lines: asserted."""
        return True

    @property
    def ri(self) -> bool:
        """An optical head has no modem lines: not ringing."""
        return False

    @property
    def cd(self) -> bool:
        """An optical head has no modem lines: asserted."""
        return True

    def _update_break_state(self) -> None:
        """A break has no meaning to the emulated port."""

    def _update_rts_state(self) -> None:
        """Control lines have no meaning to the emulated port."""

    def _update_dtr_state(self) -> None:
        """Control lines have no meaning to the emulated port."""
