"""Telegesis ETRX357 AT command codec (R3xx firmware, as in the R309 AT command manual).

Pure: no I/O.  Encoders return the bytes of one command line (ending in ``\\r``); the
decoding side is an incremental ``AtLineReader`` (bytes -> lines), ``parse_line`` (one
line -> a typed dataclass), a ``ResponseAssembler`` (lines -> one command's response, with
prompts set apart) and per-command parsers (``parse_ati``, ``parse_escan``, ...).
Commands and prompts per GB-SMART-METERING.md, "ZigBee dongles".  The line dataclasses
and ``parse_line`` live in ``telegesis_lines`` (re-exported here) to keep files small.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import SupportsBytes

from harness.domain.eui64 import is_eui64
from harness.errors import ProtocolError
from harness.protocols.telegesis_lines import (
    ERROR_NAMES,
    PROMPT_TYPES,
    AtLine,
    DeviceAnnounce,
    Echo,
    EnergyReading,
    ErrorReply,
    EscanHeader,
    Final,
    JoinedPan,
    LeftPan,
    LostPan,
    NeighbourEntry,
    NetworkInfo,
    NewNode,
    NodeLeft,
    NTableHeader,
    Ok,
    OtherPrompt,
    PanScanResult,
    Prompt,
    Sequence,
    TableColumns,
    TableLength,
    Text,
    error_name,
    is_final,
    is_prompt,
    parse_line,
)

__all__ = [
    "ERROR_NAMES",
    "PASSWORD_REGISTERS",
    "PROMPT_TYPES",
    "REGISTER_WIDTHS",
    "AtLine",
    "AtLineReader",
    "DeviceAnnounce",
    "DeviceIdentity",
    "Echo",
    "EnergyReading",
    "ErrorReply",
    "EscanHeader",
    "Final",
    "JoinedPan",
    "LeftPan",
    "LostPan",
    "NTableHeader",
    "NeighbourEntry",
    "NeighbourTable",
    "NetworkInfo",
    "NewNode",
    "NodeLeft",
    "Ok",
    "OtherPrompt",
    "PanScanResult",
    "Prompt",
    "Response",
    "ResponseAssembler",
    "Sequence",
    "TableColumns",
    "TableLength",
    "Text",
    "ati",
    "dassl",
    "en",
    "error_name",
    "error_text",
    "escan",
    "is_final",
    "is_prompt",
    "n_query",
    "ntable",
    "panscan",
    "parse_ati",
    "parse_escan",
    "parse_line",
    "parse_network_info",
    "parse_ntable",
    "parse_panscan",
    "parse_register",
    "pjoin",
    "read_register",
    "redact",
    "write_register",
]

CR = b"\r"

# --- encoders ---------------------------------------------------------------------------------

# Registers whose writes need the password (R309 manual; S09 per GB-SMART-METERING.md).
PASSWORD_REGISTERS: frozenset[int] = frozenset({0x08, 0x09, 0x0A, 0x0C})
# Hex width of the documented registers, used to format an int value.
REGISTER_WIDTHS: dict[int, int] = {
    0x00: 4,
    0x02: 4,
    0x03: 16,
    0x08: 32,
    0x09: 32,
    0x0A: 4,
    0x0E: 4,
    0x0F: 4,
    0x10: 4,
}
_EOL = re.compile(rb"[\r\n]")
_ADDRESS = re.compile(r"[0-9A-Fa-f]{2}|[0-9A-Fa-f]{4}|[0-9A-Fa-f]{16}")


def _command(text: str) -> bytes:
    """An AT command line as sent: ASCII text then CR."""
    return text.encode("ascii") + CR


def ati() -> bytes:
    """``ATI``: product identification (model, firmware, EUI64)."""
    return _command("ATI")


def escan() -> bytes:
    """``AT+ESCAN``: energy scan of channels 11-26."""
    return _command("AT+ESCAN")


def en() -> bytes:
    """``AT+EN``: form a PAN and become its coordinator and trust centre."""
    return _command("AT+EN")


def panscan() -> bytes:
    """``AT+PANSCAN``: active scan for PANs in range."""
    return _command("AT+PANSCAN")


def dassl() -> bytes:
    """``AT+DASSL``: leave the PAN."""
    return _command("AT+DASSL")


def n_query() -> bytes:
    """``AT+N?``: network information (device type, channel, power, PAN ID, EPAN ID)."""
    return _command("AT+N?")


def pjoin(seconds: int | None = None) -> bytes:
    """``AT+PJOIN[:XX]``: permit joining for ``seconds`` (2 hex digits; 0xFF = always).

    Without ``seconds`` the firmware's default applies.
    """
    if seconds is None:
        return _command("AT+PJOIN")
    if not 0 <= seconds <= 0xFF:
        raise ValueError(f"pjoin seconds must be 0..255, got {seconds}")
    return _command(f"AT+PJOIN:{seconds:02X}")


def ntable(index: int, address: str = "0000") -> bytes:
    """``AT+NTABLE:XX,<address>``: ask a node (NWK id, EUI64 or table entry) for neighbours."""
    if not 0 <= index <= 0xFF:
        raise ValueError(f"ntable index must be 0..255, got {index}")
    if not _ADDRESS.fullmatch(address):
        raise ValueError(f"ntable address must be 2, 4 or 16 hex digits, got {address!r}")
    return _command(f"AT+NTABLE:{index:02X},{address.upper()}")


def _register(reg: int | str) -> str:
    """Register number -> two uppercase hex digits (``0x0A``, ``"0A"``, ``"S0A"`` all work)."""
    if isinstance(reg, str):
        text = reg.upper().removeprefix("S")
        if not re.fullmatch(r"[0-9A-F]{1,2}", text):
            raise ValueError(f"S-register must be 1-2 hex digits, got {reg!r}")
        reg = int(text, 16)
    if not 0 <= reg <= 0xFF:
        raise ValueError(f"S-register must be 0x00..0xFF, got {reg}")
    return f"{reg:02X}"


def write_register(
    reg: int | str, value: str | int | bytes | SupportsBytes, password: str | None = None
) -> bytes:
    """``ATSXX=<value>[:<password>]``: write an S-register.

    ``value`` is hex text as the register takes it, an int (formatted to the documented
    width of the register), or bytes / a ``LinkKey`` (uppercase hex).  Writes to S08, S09,
    S0A and S0C need ``password``.  The line holds secrets: log it through ``redact``.
    """
    name = _register(reg)
    number = int(name, 16)
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"S{name} value must not be negative")
        width = REGISTER_WIDTHS.get(number)
        if width is None:
            raise ValueError(f"S{name} has no known width: pass the value as hex text")
        if value >= 1 << (4 * width):
            raise ValueError(f"S{name} value does not fit in {width} hex digits")
        text = f"{value:0{width}X}"
    elif isinstance(value, str):
        text = value
        if not text or any(c in text for c in "\r\n:=") or not text.isascii():
            raise ValueError(f"S{name} value must be non-empty ASCII without CR, ':' or '='")
    else:
        text = bytes(value).hex().upper()
    if password is None and number in PASSWORD_REGISTERS:
        raise ValueError(f"writing S{name} needs the password (ATS{name}=<value>:<password>)")
    if password is not None:
        if not password or any(c in password for c in "\r\n") or not password.isascii():
            raise ValueError("password must be non-empty ASCII without CR or LF")
        text = f"{text}:{password}"
    return _command(f"ATS{name}={text}")


def read_register(reg: int | str) -> bytes:
    """``ATSXX?``: read an S-register (the answer is one value line, then ``OK``)."""
    return _command(f"ATS{_register(reg)}?")


_REGISTER_WRITE = re.compile(r"(ATS([0-9A-F]{2})[0-9A-F]?=)([^:]*)(:.*)?", re.IGNORECASE)
_KEY_REGISTERS = frozenset({"08", "09", "0C"})  # network key, TC link key, password


def redact(line: str | bytes) -> str:
    """A command line fit for a log: keys written to S08/S09/S0C and any password masked."""
    text = line.decode("ascii", "replace") if isinstance(line, bytes) else line
    text = text.rstrip("\r\n")
    found = _REGISTER_WRITE.fullmatch(text)
    if not found:
        return text
    head, register, value, password = found.groups()
    if register.upper() in _KEY_REGISTERS:
        value = "****"
    return head + value + (":****" if password else "")


# --- line reader ------------------------------------------------------------------------------


class AtLineReader:
    """Split a byte stream into lines at CR or LF (the dongle sends ``\\r\\n``).

    Empty lines are dropped.  Bytes that are not ASCII become U+FFFD so that noise on a
    serial line still yields a line to look at.  No line longer than ``max_line`` bytes is
    ever returned, and no more than ``max_line`` bytes are ever held: an over-long line is
    dropped up to its line end and raises a ``ProtocolError`` whose ``offset`` is its start
    in the stream and whose ``lines`` are the good lines completed by the same ``feed``.
    """

    def __init__(self, max_line: int = 1024) -> None:
        self.max_line = max_line
        self._buffer = bytearray()
        self._consumed = 0  # stream offset of the first byte in _buffer
        self._skipping = False  # inside an over-long line, dropping up to its end

    def feed(self, data: bytes) -> list[str]:
        """Add bytes; return the lines they complete, in order, without line endings.

        A ``ProtocolError`` for an over-long line carries the good lines of this call in
        ``error.context["lines"]``, so none is lost.
        """
        lines: list[str] = []
        too_long: int | None = None  # stream offset of the first over-long line
        view = memoryview(data)
        position = 0
        while position < len(view):
            found = _EOL.search(data, position)
            end = found.start() if found else len(data)
            piece = view[position:end]
            if self._skipping:
                self._consumed += len(piece)
            elif len(self._buffer) + len(piece) > self.max_line:
                if too_long is None:
                    too_long = self._consumed
                self._consumed += len(self._buffer) + len(piece)
                self._buffer.clear()
                self._skipping = True
            else:
                self._buffer += piece
            if found is None:
                break
            # A line end: complete the line held (if any) and step over the CR/LF byte.
            if not self._skipping and self._buffer:
                lines.append(self._buffer.decode("ascii", "replace"))
            self._consumed += len(self._buffer) + 1
            self._buffer.clear()
            self._skipping = False
            position = end + 1
        if too_long is not None:
            raise ProtocolError(
                f"Telegesis line longer than {self.max_line} bytes without CR/LF (dropped)",
                offset=too_long,
                lines=lines,
            )
        return lines

    @property
    def pending(self) -> bytes:
        """Bytes of a line not yet terminated (for instance a ``>`` data-mode prompt)."""
        return bytes(self._buffer)


def error_text(reply: ErrorReply, command: str | bytes | None = None) -> str:
    """What an ``ERROR:<code>`` reply says, naming the command redacted (``ATS09=****:****:
    ERROR:20 (Invalid password)``): the words of the driver's error, not an error here, since
    a well-formed ERROR line is the dongle's answer, not a fault of the protocol."""
    shown = redact(command) if command is not None else None
    where = f"{shown}: " if shown else ""
    return f"{where}ERROR:{reply.code:02X} ({reply.name})"


# --- responses --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Response:
    """One command's answer: its body lines, the prompts seen meanwhile, its final line."""

    body: tuple[AtLine, ...]
    final: Final
    prompts: tuple[Prompt, ...] = ()

    @property
    def ok(self) -> bool:
        """True when the final line is ``OK``."""
        return isinstance(self.final, Ok)

    @property
    def error(self) -> ErrorReply | None:
        """The ``ERROR:<code>`` final line, or None when the command succeeded."""
        return self.final if isinstance(self.final, ErrorReply) else None


class ResponseAssembler:
    """Collect parsed lines until ``OK``/``ERROR``; echoes are dropped, prompts set apart."""

    def __init__(self) -> None:
        self._body: list[AtLine] = []
        self._prompts: list[Prompt] = []

    def add(self, line: str | bytes | AtLine) -> Response | None:
        """Add a line; return the complete ``Response`` when a final line arrives."""
        parsed = parse_line(line) if isinstance(line, str | bytes) else line
        if isinstance(parsed, Ok | ErrorReply):
            response = Response(tuple(self._body), parsed, tuple(self._prompts))
            self._body.clear()
            self._prompts.clear()
            return response
        if isinstance(parsed, PROMPT_TYPES):
            self._prompts.append(parsed)
        elif not isinstance(parsed, Echo):
            self._body.append(parsed)
        return None


def _parsed(lines: Iterable[str | bytes | AtLine] | Response) -> list[AtLine]:
    """Lines or a Response -> parsed lines (a Response gives its body and prompts)."""
    if isinstance(lines, Response):
        return [*lines.body, *lines.prompts]
    return [parse_line(x) if isinstance(x, str | bytes) else x for x in lines]


@dataclass(frozen=True, slots=True)
class DeviceIdentity:
    """The ``ATI`` answer: model (``ETRX357``), firmware (``R309C``), EUI64."""

    model: str
    firmware: str
    eui64: str


def parse_ati(lines: Iterable[str | bytes | AtLine] | Response) -> DeviceIdentity:
    """Read ``Telegesis <model>``, ``R<firmware>`` and the EUI64 from an ATI answer."""
    texts = [x.text for x in _parsed(lines) if isinstance(x, Text)]
    model = next(
        (t.removeprefix("Telegesis ").strip() for t in texts if t.startswith("Telegesis ")), None
    )
    firmware = next((t for t in texts if re.fullmatch(r"R\d{3}\w*", t)), None)
    eui64 = next((t.upper() for t in texts if is_eui64(t)), None)
    if model is None or firmware is None or eui64 is None:
        raise ProtocolError(f"Telegesis ATI answer lacks model, firmware or EUI64: {texts!r}")
    return DeviceIdentity(model, firmware, eui64)


def parse_escan(lines: Iterable[str | bytes | AtLine] | Response) -> dict[int, int]:
    """Channel -> energy from an ``AT+ESCAN`` answer (``+ESCAN:`` then ``11:XX`` ...)."""
    parsed = _parsed(lines)
    if not any(isinstance(x, EscanHeader) for x in parsed):
        raise ProtocolError("Telegesis ESCAN answer lacks its +ESCAN: header")
    readings = {x.channel: x.energy for x in parsed if isinstance(x, EnergyReading)}
    bad = sorted(c for c in readings if not 11 <= c <= 26)
    if bad:
        raise ProtocolError(f"Telegesis ESCAN: channels outside 11-26: {bad}")
    return readings


def parse_panscan(lines: Iterable[str | bytes | AtLine] | Response) -> list[PanScanResult]:
    """The PANs found by ``AT+PANSCAN``, in the order reported."""
    return [x for x in _parsed(lines) if isinstance(x, PanScanResult)]


def parse_network_info(lines: Iterable[str | bytes | AtLine] | Response) -> NetworkInfo:
    """The ``+N=`` line of an ``AT+N?`` answer."""
    found = [x for x in _parsed(lines) if isinstance(x, NetworkInfo)]
    if len(found) != 1:
        raise ProtocolError(f"Telegesis AT+N? answer has {len(found)} +N= lines")
    return found[0]


@dataclass(frozen=True, slots=True)
class NeighbourTable:
    """An ``NTable:`` answer: the node asked, its status, table length and rows."""

    address: str
    error_code: int
    length: int | None
    entries: tuple[NeighbourEntry, ...]


def parse_ntable(lines: Iterable[str | bytes | AtLine] | Response) -> NeighbourTable:
    """The first ``NTable:`` block among ``lines`` (other lines, e.g. SEQ/ACK, are skipped)."""
    parsed = _parsed(lines)
    start = next((i for i, x in enumerate(parsed) if isinstance(x, NTableHeader)), None)
    if start is None:
        raise ProtocolError("Telegesis: no NTable: header in the answer")
    header = parsed[start]
    assert isinstance(header, NTableHeader)
    length: int | None = None
    entries: list[NeighbourEntry] = []
    for item in parsed[start + 1 :]:
        if isinstance(item, TableLength):
            length = item.length
        elif isinstance(item, NeighbourEntry):
            entries.append(item)
        elif isinstance(item, NTableHeader):
            break
    return NeighbourTable(header.address, header.error_code, length, tuple(entries))


def parse_register(lines: Iterable[str | bytes | AtLine] | Response) -> str:
    """The value line of an ``ATSXX?`` answer, as the dongle printed it."""
    texts = [x.text for x in _parsed(lines) if isinstance(x, Text)]
    if len(texts) != 1:
        raise ProtocolError(f"Telegesis register answer has {len(texts)} value lines")
    return texts[0]
