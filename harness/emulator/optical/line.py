"""The optical line between probe and meter: what each side's UART settings do to bytes.

The meter talks 7E1 at the baud of the session in mode C, 8N1 once it speaks HDLC (mode E or
direct HDLC). A probe set the same way passes bytes through; a probe at another baud sees
garbage, as a real one would; a probe in 8N1 (mode C) sees the parity bit as bit 7, and its
own 7-bit characters arrive with parity errors where the even parity bit should have been 1.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from harness.protocols.iec62056_21_reader import add_even_parity


@dataclass
class LineSettings:
    """A UART's settings as RFC 2217 carries them (pyserial's attribute names)."""

    baudrate: int = 300
    bytesize: int = 7
    parity: str = "E"
    stopbits: float = 1


@dataclass
class VirtualSerial(LineSettings):
    """The server-side serial port pyserial's RFC 2217 PortManager drives: records settings.

    ``changed`` is set on every setting change so a meter waiting out its reaction time can
    answer as soon as the probe has switched baud.
    """

    rts: bool = True
    dtr: bool = True
    break_condition: bool = False
    cts: bool = True
    dsr: bool = True
    ri: bool = False
    cd: bool = True
    changed: threading.Condition = field(default_factory=threading.Condition, repr=False)

    def __setattr__(self, name: str, value: object) -> None:
        object.__setattr__(self, name, value)
        if name in ("baudrate", "bytesize", "parity", "stopbits") and "changed" in self.__dict__:
            with self.changed:
                self.changed.notify_all()

    def reset_input_buffer(self) -> None:
        """PURGE from the client: nothing buffered here."""

    def reset_output_buffer(self) -> None:
        """PURGE from the client: nothing buffered here."""

    def wait_for_baud(self, baud: int, timeout: float) -> bool:
        """Wait up to ``timeout`` for the probe to set ``baud``; True if it did."""
        with self.changed:
            return self.changed.wait_for(lambda: self.baudrate == baud, timeout)


def garble(data: bytes) -> bytes:
    """What a UART at the wrong baud makes of a stream: deterministic, never valid framing."""
    return bytes((((b * 0x9D) ^ 0xA7) & 0xFF) | 0x80 for b in data)


def framing_of(settings: LineSettings) -> str:
    """``"7E1"``, ``"8N1"``... as the engine names a UART framing."""
    return f"{settings.bytesize}{settings.parity}{int(settings.stopbits)}"


def meter_to_probe(data: bytes, meter_baud: int, probe: LineSettings | None,
                   framing: str = "7E1") -> bytes:
    """Bytes the probe receives when the meter sends ``data`` (``framing`` at ``meter_baud``)."""
    if probe is None:
        return data  # raw socket: nothing to compare, the probe is taken to match
    if probe.baudrate != meter_baud:
        return garble(data)
    if framing != "7E1":  # binary HDLC: only the same framing gets the bytes
        return data if framing_of(probe) == framing else garble(data)
    if (probe.bytesize, probe.parity) == (7, "E"):
        return data
    if (probe.bytesize, probe.parity) == (8, "N"):
        return add_even_parity(data)
    return garble(data)


def probe_to_meter(data: bytes, meter_baud: int, probe: LineSettings | None,
                   framing: str = "7E1") -> bytes:
    """Bytes the meter (its port in ``framing``) receives from ``data`` sent with the probe's
    settings."""
    if probe is None:
        return data
    if probe.baudrate != meter_baud:
        return garble(data)
    if framing != "7E1":
        return data if framing_of(probe) == framing else garble(data)
    if (probe.bytesize, probe.parity) == (7, "E"):
        return bytes(b & 0x7F for b in data)
    if (probe.bytesize, probe.parity) == (8, "N"):
        # A character is good 7E1 only if bit 7 happens to be its even parity bit.
        return bytes(b & 0x7F if add_even_parity(bytes([b & 0x7F]))[0] == b else 0xFF
                     for b in data)
    return garble(data)
