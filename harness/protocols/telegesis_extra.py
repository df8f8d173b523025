"""Telegesis helpers the AT codec (``harness.protocols.telegesis``) does not have.  Pure.

- ``dassr``: ``AT+DASSR:<address>``, ask a remote node to leave the PAN (R3xx command set;
  not on the domain page's list, which names the commands triage needs most).
- ``jpan``: ``AT+JPAN:<channel>,<PANID>``, join that PAN (R3xx command set; the domain page
  names it): answered ``JPAN:<ch>,<PANID>,<EPANID>`` and ``OK``, or ``ERROR:<code>`` (0xAB no
  beacons heard, 0xAD no network key received, 0x94 cannot join).
- ``energy_dbm`` / ``energy_byte``: an ``AT+ESCAN`` reading is one hex byte per channel; we
  read it as a signed 8-bit dBm value, the unit EmberZNet's energy scan reports (so an EZSP
  backend gives the same numbers).
- ``S0A_PRECONFIGURED_TC_KEY``: S0A bit 8, "use pre-configured TC link key"
  (GB-SMART-METERING.md, "ZigBee dongles").
- ``AuthFailed`` / ``authfail``: a prompt of **meterbench's emulated dongle only**, never sent
  by Telegesis firmware: ``AUTHFAIL:<nodeid>,<EUI64>`` says a node associated but could not
  open the Transport-Key frame (wrong link key).  Real firmware gives no such evidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from harness.errors import ProtocolError

__all__ = [
    "AUTHFAIL_PREFIX",
    "S0A_PRECONFIGURED_TC_KEY",
    "AuthFailed",
    "authfail",
    "dassr",
    "energy_byte",
    "energy_dbm",
    "jpan",
    "parse_extension",
]

S0A_PRECONFIGURED_TC_KEY = 0x0100
"""S0A bit 8: the trust centre uses the pre-configured link key in S09."""
AUTHFAIL_PREFIX = "AUTHFAIL:"
_ADDRESS = re.compile(r"[0-9A-Fa-f]{4}|[0-9A-Fa-f]{16}")
_AUTHFAIL = re.compile(r"AUTHFAIL:\s*([0-9A-Fa-f]{4}),([0-9A-Fa-f]{16})")


def dassr(address: str) -> bytes:
    """``AT+DASSR:<address>``: ask a remote node (NWK id or EUI64) to leave the PAN."""
    if not _ADDRESS.fullmatch(address):
        raise ValueError(f"dassr address must be 4 or 16 hex digits, got {address!r}")
    return f"AT+DASSR:{address.upper()}\r".encode("ascii")


def jpan(channel: int, pan_id: int) -> bytes:
    """``AT+JPAN:<channel>,<PANID>``: join the PAN ``pan_id`` on ``channel`` (11-26)."""
    if not 11 <= channel <= 26:
        raise ValueError(f"jpan channel must be 11-26, got {channel}")
    if not 0 <= pan_id <= 0xFFFF:
        raise ValueError(f"jpan PAN ID must be 0000-FFFF, got {pan_id:#x}")
    return f"AT+JPAN:{channel},{pan_id:04X}\r".encode("ascii")


def energy_dbm(raw: int) -> int:
    """An ``AT+ESCAN`` byte (0..255) as signed dBm (0xA6 -> -90)."""
    if not 0 <= raw <= 0xFF:
        raise ValueError(f"energy reading must be one byte, got {raw}")
    return raw - 0x100 if raw & 0x80 else raw


def energy_byte(dbm: float) -> int:
    """The byte an ``AT+ESCAN`` line shows for ``dbm`` (clamped to -128..127)."""
    value = max(-128, min(127, round(dbm)))
    return value & 0xFF


@dataclass(frozen=True, slots=True)
class AuthFailed:
    """Emulator prompt ``AUTHFAIL:<nodeid>,<EUI64>``: a join failed on the link key."""

    node_id: int
    eui64: str


def authfail(node_id: int, eui64: str) -> str:
    """The ``AUTHFAIL:`` line the emulated dongle sends (without line ending)."""
    return f"{AUTHFAIL_PREFIX}{node_id:04X},{eui64.upper()}"


def parse_extension(line: str) -> AuthFailed | None:
    """A meterbench-extension prompt in ``line``, or None when the line is not one."""
    text = line.strip()
    if not text.startswith(AUTHFAIL_PREFIX):
        return None
    found = _AUTHFAIL.fullmatch(text)
    if found is None:
        raise ProtocolError(f"Telegesis (emulator): malformed line {text!r}", line=text)
    return AuthFailed(int(found.group(1), 16), found.group(2).upper())
