"""Telegesis ETRX357 answer and prompt lines as typed dataclasses (R3xx / R309 firmware).

Pure: no I/O.  ``parse_line`` classifies one line; ``is_prompt`` tells an asynchronous
prompt from a command's answer.  The public entry point is ``harness.protocols.telegesis``,
which re-exports everything here.  Line forms per GB-SMART-METERING.md, "ZigBee dongles".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from harness.errors import ProtocolError

# --- error codes ----------------------------------------------------------------------------

# Names from the error-code table of the R309 AT command manual (section 3), as reproduced
# by two independent public Telegesis projects that agree code for code.  Codes not listed
# here get the generic name "Telegesis error 0xNN" rather than a guess.
ERROR_NAMES: dict[int, str] = {
    0x00: "Everything OK - Success",
    0x01: "Couldn't poll parent because of timeout",
    0x02: "Unknown command",
    0x04: "Invalid S-register",
    0x05: "Invalid parameter",
    0x06: "Recipient could not be reached",
    0x07: "Message was not acknowledged",
    0x08: "No sink known",
    0x09: "Address table entry is in use and cannot be modified",
    0x0A: "Message could not be sent",
    0x0B: "Local node is not sink",
    0x0C: "Too many characters",
    0x0E: "Background scan in progress (wait and try again)",
    0x0F: "Fatal error initialising the network",
    0x10: "Error bootloading",
    0x12: "Fatal error initialising the stack",
    0x18: "Node has run out of buffers",
    0x19: "Trying to write read-only register",
    0x1A: "Data mode refused by remote node",
    0x1B: "Connection lost in data mode",
    0x1C: "Remote node is already in data mode",
    0x20: "Invalid password",
    0x25: "Cannot form network",
    0x27: "No network found",
    0x28: "Operation cannot be completed if node is part of a PAN",
    0x2C: "Error leaving the PAN",
    0x2D: "Error scanning for PANs",
    0x33: "No response from the remote bootloader",
    0x34: "Target did not respond during cloning",
    0x35: "Timeout occurred during xCASTB",
    0x39: "MAC transmit queue is full",
    0x6C: "Invalid binding index",
    0x70: "Invalid operation",
    0x72: "More than 10 unicast messages were in flight at the same time",
    0x74: "Message too long",
    0x80: "ZDP invalid request type",
    0x81: "ZDP device not found",
    0x82: "ZDP invalid endpoint",
    0x83: "ZDP not active",
    0x84: "ZDP not supported",
    0x85: "ZDP timeout",
    0x86: "ZDP no match",
    0x87: "ZDP table full",
    0x88: "ZDP no entry",
    0x89: "ZDP no descriptor",
    0x91: "Operation only possible if connected to a PAN",
    0x93: "Node is not part of a network",
    0x94: "Cannot join network",
    0x96: "Mobile end device move to new parent failed",
    0x98: "Cannot join ZigBee 2006 network as router",
    0xA1: "More than 8 broadcasts were sent within 8 seconds",
    0xAB: "Trying to join, but no beacons could be heard",
    0xAC: "Network key was sent in the clear when trying to join secured",
    0xAD: "Did not receive network key",
    0xAE: "No link key received",
    0xAF: "Preconfigured key required",
    0xC5: "NWK already present",
    0xC7: "NWK table full",
    0xC8: "NWK unknown device",
}


def error_name(code: int) -> str:
    """The manual's name for an ``ERROR:<code>``, or a generic one for an unlisted code."""
    return ERROR_NAMES.get(code, f"Telegesis error 0x{code:02X}")


# --- typed lines ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Ok:
    """Final ``OK``: the command succeeded."""


@dataclass(frozen=True, slots=True)
class ErrorReply:
    """Final ``ERROR:<code>``: the command failed."""

    code: int

    @property
    def name(self) -> str:
        """The manual's name for the code (generic if the code is not in the table)."""
        return error_name(self.code)


@dataclass(frozen=True, slots=True)
class Echo:
    """The dongle echoing a command typed to it (S12 bit 4 clear)."""

    command: str


@dataclass(frozen=True, slots=True)
class Text:
    """A response line with no shape of its own (ATI lines, an S-register value, ...)."""

    text: str


@dataclass(frozen=True, slots=True)
class EscanHeader:
    """``+ESCAN:`` opens an energy-scan answer."""


@dataclass(frozen=True, slots=True)
class EnergyReading:
    """``11:XX``: energy measured on one channel (hex byte as the dongle reports it)."""

    channel: int
    energy: int


@dataclass(frozen=True, slots=True)
class PanScanResult:
    """``+PANSCAN:<ch>,<PANID>,<EPANID>,<stack profile>,<joinable>[,<RSSI>,<LQI>]``."""

    channel: int
    pan_id: int
    epan_id: str
    stack_profile: int
    joinable: bool
    rssi: int | None = None
    lqi: int | None = None


@dataclass(frozen=True, slots=True)
class NetworkInfo:
    """``+N=<type>,<ch>,<power>,<PANID>,<EPANID>``, or ``+N=NoPAN`` (other fields None)."""

    device_type: str
    channel: int | None = None
    power: int | None = None
    pan_id: int | None = None
    epan_id: str | None = None

    @property
    def in_pan(self) -> bool:
        """False for ``+N=NoPAN``."""
        return self.channel is not None


@dataclass(frozen=True, slots=True)
class NewNode:
    """Prompt ``NEWNODE:<nodeid>,<EUI64>,<parent>`` (coordinator: a node was let in)."""

    node_id: int
    eui64: str
    parent: int


@dataclass(frozen=True, slots=True)
class NodeLeft:
    """Prompt ``NODELEFT:<nodeid>,<EUI64>`` (coordinator: a node left)."""

    node_id: int
    eui64: str


@dataclass(frozen=True, slots=True)
class JoinedPan:
    """Prompt ``JPAN:<ch>,<PANID>,<EPANID>`` (this node formed or joined a PAN)."""

    channel: int
    pan_id: int
    epan_id: str


@dataclass(frozen=True, slots=True)
class LeftPan:
    """Prompt ``LeftPAN`` (this node left its PAN)."""


@dataclass(frozen=True, slots=True)
class LostPan:
    """Prompt ``LostPAN`` (an end device lost contact with its parent)."""


@dataclass(frozen=True, slots=True)
class DeviceAnnounce:
    """Prompt ``FFD:``/``SED:``/``MED:``/``ZED:<EUI64>,<nodeid>``: a node announced itself."""

    kind: str
    eui64: str
    node_id: int


@dataclass(frozen=True, slots=True)
class Sequence:
    """Prompt ``SEQ:``, ``ACK:`` or ``NACK:<n>``: a message's number, acknowledged or not."""

    kind: str
    number: int


@dataclass(frozen=True, slots=True)
class NTableHeader:
    """Prompt ``NTable:<address>,<errorcode>`` opening a neighbour table answer."""

    address: str
    error_code: int


@dataclass(frozen=True, slots=True)
class TableLength:
    """``Length:XX``: how many entries the remote table holds."""

    length: int


@dataclass(frozen=True, slots=True)
class TableColumns:
    """The column header line ``No. | Dev | EUI | ID | LQI``."""


@dataclass(frozen=True, slots=True)
class NeighbourEntry:
    """An NTable row ``0. | FFD | 000D6F0000B0C6F1 | 0000 | FF``."""

    index: int
    device_type: str
    eui64: str
    node_id: int
    lqi: int


@dataclass(frozen=True, slots=True)
class OtherPrompt:
    """A documented prompt this codec does not decode further (``UCAST:``, ``RX:``, ...)."""

    name: str
    payload: str


Final = Ok | ErrorReply
Prompt = (
    NewNode
    | NodeLeft
    | JoinedPan
    | LeftPan
    | LostPan
    | DeviceAnnounce
    | Sequence
    | NTableHeader
    | TableLength
    | TableColumns
    | NeighbourEntry
    | OtherPrompt
)
AtLine = Final | Prompt | Echo | Text | EscanHeader | EnergyReading | PanScanResult | NetworkInfo
PROMPT_TYPES = (
    NewNode,
    NodeLeft,
    JoinedPan,
    LeftPan,
    LostPan,
    DeviceAnnounce,
    Sequence,
    NTableHeader,
    TableLength,
    TableColumns,
    NeighbourEntry,
    OtherPrompt,
)

# --- line parser ------------------------------------------------------------------------------

_H2, _H4, _H16 = r"[0-9A-Fa-f]{2}", r"[0-9A-Fa-f]{4}", r"[0-9A-Fa-f]{16}"
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(rf"ERROR:\s*({_H2})"), "error"),
    (re.compile(rf"NEWNODE:\s*({_H4}),({_H16}),({_H4})"), "newnode"),
    (re.compile(rf"NODELEFT:\s*({_H4}),({_H16})"), "nodeleft"),
    (re.compile(rf"JPAN:\s*(\d{{1,2}}),({_H4}),({_H16})"), "jpan"),
    (re.compile(rf"(FFD|SED|MED|ZED):\s*({_H16}),({_H4})(?:,.*)?"), "announce"),
    (re.compile(rf"(SEQ|ACK|NACK):\s*({_H2})"), "sequence"),
    (re.compile(rf"NTable:\s*({_H4}|{_H16}|{_H2}),({_H2})"), "ntable"),
    (re.compile(rf"Length:\s*({_H2})"), "length"),
    (re.compile(r"No\.\s*\|\s*Dev\s*\|\s*EUI\s*\|\s*ID\s*\|\s*LQI\s*\|?"), "columns"),
    (
        re.compile(rf"({_H2}|\d)\.\s*\|\s*(\w+|\?+)\s*\|\s*({_H16})\s*\|\s*({_H4})\s*\|\s*({_H2})"),
        "row",
    ),
    (re.compile(r"(\d{2}):([0-9A-Fa-f]{2})"), "energy"),
    (
        re.compile(
            rf"\+PANSCAN:\s*(\d{{1,2}}),({_H4}),({_H16}),({_H2}),({_H2})"
            r"(?:,(-?\d{1,4}),([0-9A-Fa-f]{2}))?"
        ),
        "panscan",
    ),
    (re.compile(rf"\+N=\s*(\w+),(\d{{1,2}}),([+-]?\d{{1,4}}),({_H4}),({_H16})"), "network"),
]
# ASCII only: \d and \w would otherwise match other scripts' digits and letters.
_PATTERNS = [(re.compile(pattern.pattern, re.ASCII), kind) for pattern, kind in _PATTERNS]
# fmt: off
# Documented R309 prompts kept whole as ``OtherPrompt`` (name before the first colon).
_OTHER_PROMPTS = frozenset({
    "UCAST", "BCAST", "MCAST", "RX", "SR", "SREAD", "SWRITE", "AddrResp", "DataMODE", "BTable",
    "Bind", "Unbind", "PWRCHANGE", "TRACK", "TRACK2", "INTERPAN", "SDATA", "FN130", "SINK",
    "ADSK", "MatchDesc",
})
# Lines starting like this must fit their pattern above, or they are malformed.
_KNOWN_PREFIXES = (
    "ERROR", "NEWNODE:", "NODELEFT:", "JPAN:", "+PANSCAN:", "+N=", "NTable:", "Length:", "SEQ:",
    "ACK:", "NACK:", "FFD:", "SED:", "MED:", "ZED:",
)
# fmt: on


def _build(kind: str, g: tuple[str, ...]) -> AtLine:
    """A matched pattern's groups -> its dataclass."""
    match kind:
        case "error":
            return ErrorReply(int(g[0], 16))
        case "newnode":
            return NewNode(int(g[0], 16), g[1].upper(), int(g[2], 16))
        case "nodeleft":
            return NodeLeft(int(g[0], 16), g[1].upper())
        case "jpan":
            return JoinedPan(int(g[0]), int(g[1], 16), g[2].upper())
        case "announce":
            return DeviceAnnounce(g[0], g[1].upper(), int(g[2], 16))
        case "sequence":
            return Sequence(g[0], int(g[1], 16))
        case "ntable":
            return NTableHeader(g[0].upper(), int(g[1], 16))
        case "length":
            return TableLength(int(g[0], 16))
        case "columns":
            return TableColumns()
        case "row":
            return NeighbourEntry(int(g[0], 16), g[1], g[2].upper(), int(g[3], 16), int(g[4], 16))
        case "energy":
            return EnergyReading(int(g[0]), int(g[1], 16))
        case "panscan":
            return PanScanResult(
                int(g[0]),
                int(g[1], 16),
                g[2].upper(),
                int(g[3], 16),
                int(g[4], 16) != 0,
                int(g[5]) if g[5] is not None else None,
                int(g[6], 16) if g[6] is not None else None,
            )
        case "network":
            return NetworkInfo(g[0], int(g[1]), int(g[2]), int(g[3], 16), g[4].upper())
    raise AssertionError(kind)  # pragma: no cover - every pattern kind is handled above


def parse_line(line: str | bytes) -> AtLine:
    """Classify one line (without its line ending) into a typed dataclass.

    A line that starts like a known answer or prompt but does not fit its documented form
    raises ``ProtocolError``; anything else unrecognised is ``Text``.
    """
    text = line.decode("ascii", "replace") if isinstance(line, bytes) else line
    text = text.strip()
    if text == "OK":
        return Ok()
    if text == "LeftPAN":
        return LeftPan()
    if text == "LostPAN":
        return LostPan()
    if text.startswith("+ESCAN"):
        if text.rstrip(":") != "+ESCAN":
            raise ProtocolError(f"Telegesis: unexpected +ESCAN line {text!r}", line=text)
        return EscanHeader()
    if text.upper() == "+N=NOPAN":
        return NetworkInfo("NoPAN")
    if text[:2].upper() == "AT":
        return Echo(text)
    for pattern, kind in _PATTERNS:
        found = pattern.fullmatch(text)
        if found:
            return _build(kind, found.groups())
    if text.startswith(_KNOWN_PREFIXES):
        raise ProtocolError(f"Telegesis: malformed line {text!r}", line=text)
    name, colon, payload = text.partition(":")
    if colon and name in _OTHER_PROMPTS:
        return OtherPrompt(name, payload)
    return Text(text)


def is_prompt(line: str | bytes | AtLine) -> bool:
    """True for an asynchronous prompt (which may arrive at any time, between commands).

    The lines of an ``NTable:`` block (``Length:``, the column header, the rows) count as
    prompts: they follow the asynchronous ``NTable:`` prompt, after the command's ``OK``.
    """
    parsed = parse_line(line) if isinstance(line, str | bytes) else line
    return isinstance(parsed, PROMPT_TYPES)


def is_final(line: str | bytes | AtLine) -> bool:
    """True for ``OK`` or ``ERROR:<code>``, which end a command's response."""
    parsed = parse_line(line) if isinstance(line, str | bytes) else line
    return isinstance(parsed, Ok | ErrorReply)
