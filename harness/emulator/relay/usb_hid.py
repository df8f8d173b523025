"""Emulated "USBRelay" HID boards, put on a virtual USB bus through a pyusb backend.

The relay driver reaches these boards with the same ``usb.core.find`` and ``ctrl_transfer``
calls it makes on a lab bench (DESIGN.md principle 1): only the pyusb backend differs
(:mod:`harness.emulator.relay.pyusb_backend`, re-exported here). A board acts on the HID
feature reports (SET_REPORT commands, GET_REPORT serial + contact bitmask) and is registered
process-wide under the address ``usb-emulated:<board-id>``.
"""

from __future__ import annotations

import logging
import re
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

from harness.config.models import InstrumentConfig
from harness.emulator.power.scpi import CommandLog
from harness.emulator.relay.pyusb_backend import (
    BACKEND,
    PRODUCT_ID,
    SCHEME,
    VENDOR_ID,
    EmulatedUsbBackend,
    device_match,
    register_board,
    registered_boards,
    unregister_board,
)

__all__ = [
    "BACKEND",
    "PRODUCT_ID",
    "SCHEME",
    "VENDOR_ID",
    "EmulatedRelayBoard",
    "EmulatedRelayServer",
    "EmulatedUsbBackend",
    "default_serial",
    "device_match",
    "register_board",
    "registered_boards",
    "serve_relay",
    "unregister_board",
]

log = logging.getLogger("meterbench.emulator.usb_relay")

Listener = Callable[[int, bool], None]
"""Called with (channel, closed) after a contact changes, e.g. to power an emulated DUT."""


@dataclass
class EmulatedRelayBoard:
    """One board: its serial, its contacts, and channels stuck by an injected fault."""

    serial: str
    channels: int = 2
    stuck: set[int] = field(default_factory=set)
    name: str = "relay"
    command_log: CommandLog | None = None  # every SET_REPORT received, for tests to read

    def __post_init__(self) -> None:
        if not 1 <= self.channels <= 8:
            raise ValueError(f"a USBRelay board has 1..8 channels, not {self.channels}")
        if len(self.serial) > 5 or not self.serial.isascii():
            raise ValueError(f"serial must be at most 5 ASCII characters, got {self.serial!r}")
        self._closed = dict.fromkeys(range(1, self.channels + 1), False)
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()

    @property
    def product(self) -> str:
        """The USB product string, which is how hosts learn the channel count."""
        return f"USBRelay{self.channels}"

    def states(self) -> dict[int, bool]:
        """Channel → contact closed."""
        with self._lock:
            return dict(self._closed)

    def is_closed(self, channel: int) -> bool:
        """Whether one contact is closed."""
        with self._lock:
            return self._closed[channel]

    def add_listener(self, listener: Listener) -> None:
        """Be told of every contact change (an emulated device wired to a contact)."""
        self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        """Stop telling ``listener``."""
        self._listeners.remove(listener)

    def force(self, channel: int, closed: bool) -> None:
        """Put a contact in a state regardless of faults (e.g. to set up a welded contact)."""
        self._switch({channel: closed}, obey_stuck=False)

    def release_all(self) -> None:
        """Every coil de-energised, every contact open (the board loses power)."""
        self._switch(dict.fromkeys(self._closed, False), obey_stuck=False)

    def set_report(self, report: bytes) -> None:
        """Act on one SET_REPORT: 0xFF/0xFD close/open a channel, 0xFE/0xFC all, 0xFA serial.

        Unknown commands and channels are ignored, as the board's firmware does.
        """
        if not report:
            return
        command = report[0]
        channel = report[1] if len(report) > 1 else 0
        if self.command_log is not None:
            what = {0xFF: "CLOSE", 0xFD: "OPEN", 0xFE: "CLOSE ALL", 0xFC: "OPEN ALL",
                    0xFA: "SERIAL"}.get(command, f"UNKNOWN {command:02X}")
            self.command_log.write(self.name, channel if command in (0xFF, 0xFD) else 0, what)
        if command in (0xFF, 0xFD) and channel in self._closed:
            self._switch({channel: command == 0xFF})
        elif command in (0xFE, 0xFC):
            self._switch(dict.fromkeys(self._closed, command == 0xFE))
        elif command == 0xFA:  # the firmware stores whatever 5 bytes it is given
            self.serial = report[1:6].rstrip(b"\0").decode("latin-1")

    def feature_report(self) -> bytes:
        """The GET_REPORT answer: serial in bytes 0..4, contact bitmask in byte 7."""
        with self._lock:
            mask = sum(1 << (ch - 1) for ch, closed in self._closed.items() if closed)
        serial = self.serial.encode("latin-1", "replace")[:5]
        return serial.ljust(5, b"\0") + bytes([0, 0, mask])

    def _switch(self, wanted: dict[int, bool], obey_stuck: bool = True) -> None:
        changed = []
        with self._lock:
            for ch, closed in wanted.items():
                if (obey_stuck and ch in self.stuck) or self._closed[ch] == closed:
                    continue
                self._closed[ch] = closed
                changed.append((ch, closed))
        for ch, closed in changed:
            log.debug("board %s channel %d %s", self.serial, ch, "closed" if closed else "open")
            for listener in list(self._listeners):
                listener(ch, closed)


# -- the emulated bench's server -------------------------------------------------------------


class EmulatedRelayServer:
    """Serves one board for the emulated bench (the EmulatedServer protocol)."""

    def __init__(self, board: EmulatedRelayBoard, board_id: str | None = None) -> None:
        self.board = board
        self._wanted_id = board_id
        self._address: str | None = None

    @property
    def resource(self) -> str:
        """The address the relay driver opens: ``usb-emulated:<id>`` (once started)."""
        if self._address is None:
            raise RuntimeError("the emulated relay board is not plugged in: call start() first")
        return self._address

    @property
    def board_id(self) -> str | None:
        """The registry id while started."""
        return self._address.partition(":")[2] if self._address else None

    def start(self) -> None:
        """Plug the board into the virtual bus."""
        if self._address is None:
            self._address = register_board(self.board, self._wanted_id)

    def stop(self) -> None:
        """Unplug the board and open every contact; safe to call twice."""
        if self._address is not None:
            unregister_board(self._address.partition(":")[2])
            self._address = None
        self.board.release_all()


def default_serial(name: str) -> str:
    """A 5-character serial derived from an instrument name: 3 letters and 2 hex of its CRC."""
    letters = re.sub(r"[^A-Za-z0-9]", "", name).upper()[:3].ljust(3, "0")
    return f"{letters}{zlib.crc32(name.encode()) & 0xFF:02X}"


def serve_relay(name: str, inst: InstrumentConfig,
                command_log: CommandLog | None = None) -> EmulatedRelayServer:
    """The server for an ``emulated = true`` relay: options ``channels`` (2), ``serial``."""
    board = EmulatedRelayBoard(
        serial=str(inst.options.get("serial") or default_serial(name)),
        channels=int(inst.options.get("channels", 2)), name=name, command_log=command_log,
    )
    return EmulatedRelayServer(board, board_id=name)
