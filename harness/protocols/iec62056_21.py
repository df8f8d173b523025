"""IEC 62056-21 mode C (optical port) codecs: sign-on, identification, option select, readout.

Rules from GB-SMART-METERING.md, "IEC 62056-21 optical port (mode C)".  Drivers and the meter
emulator share these functions so both sides agree on the bytes.  Every parse error is a
:class:`~harness.errors.ProtocolError` whose ``offset`` names the byte at fault and whose
``expected`` says what should have been there.  Encoders reject invalid fields with
``ValueError`` when the dataclass is built.  Programming mode (commands and answers) is in
``iec62056_21_programming``; the byte-stream side (message splitting, 7E1 parity) is in
``iec62056_21_reader``.  The ``_``-prefixed helpers are shared with those two modules.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import reduce
from operator import xor

from harness.errors import ProtocolError

__all__ = [
    "ACK", "BAUD_RATES", "CR", "CRLF", "ETX", "FAST_REACTION_S", "INITIAL_BAUD", "LF",
    "MODE_BINARY", "MODE_PROGRAMMING", "MODE_READOUT", "NAK", "PROTOCOL_HDLC",
    "PROTOCOL_NORMAL", "SLOW_REACTION_S", "SOH", "STX", "DataSet", "Identification",
    "OptionSelect", "baud_for_char", "bcc", "char_for_baud", "encode_dataset",
    "encode_identification", "encode_option_select", "encode_readout", "encode_request",
    "frame_bcc", "parse_dataset", "parse_identification", "parse_option_select",
    "parse_readout", "parse_request",
]

SOH = 0x01
"""Start of header: opens a programming-mode command."""
STX = 0x02
"""Start of text: opens a data block (readout, data or error message)."""
ETX = 0x03
"""End of text: closes a block; the BCC byte follows it."""
ACK = 0x06
"""Acknowledge: starts an option select line, or alone means "accepted"."""
NAK = 0x15
"""Negative acknowledge: alone means "refused" or "repeat"."""
CR = 0x0D
LF = 0x0A
CRLF = b"\r\n"

BAUD_RATES: dict[str, int] = {
    "0": 300, "1": 600, "2": 1200, "3": 2400, "4": 4800, "5": 9600, "6": 19200,
}
"""Mode C baud characters (identification ``Z`` and option select ``Z``) to bits per second."""
INITIAL_BAUD = 300
"""Every mode C session starts at 300 Bd, 7E1."""
FAST_REACTION_S = 0.020
"""Reaction time of a meter whose manufacturer's third letter is lower case."""
SLOW_REACTION_S = 0.200
"""Reaction time of every other meter."""

PROTOCOL_NORMAL = "0"
"""Option select ``V``: stay with this protocol (mode C)."""
PROTOCOL_HDLC = "2"
"""Option select ``V``: switch to HDLC (mode E)."""
MODE_READOUT = "0"
"""Option select ``Y``: send the data readout."""
MODE_PROGRAMMING = "1"
"""Option select ``Y``: enter programming mode (commands P, W, R, E, B)."""
MODE_BINARY = "2"
"""Option select ``Y``: binary (HDLC) mode."""

_NAMES = {SOH: "SOH (0x01)", STX: "STX (0x02)", ETX: "ETX (0x03)", ACK: "ACK (0x06)",
          NAK: "NAK (0x15)", CR: "CR (0x0D)", LF: "LF (0x0A)"}
# Characters the standard reserves as delimiters, per field.
_DEVICE_ADDRESS_BAD = "/?!"
_IDENT_BAD = "/!"
_ADDRESS_BAD = "()/!"
_VALUE_BAD = "()*/!"


# --- helpers ---------------------------------------------------------------------------------

def _fail(what: str, offset: int | None, expected: str) -> ProtocolError:
    """Build the ProtocolError every parser raises: what went wrong, where, what was wanted."""
    where = f" at byte {offset}" if offset is not None else ""
    return ProtocolError(f"{what}{where}: expected {expected}", offset=offset, expected=expected)


def _label(byte: int) -> str:
    """How an expected byte is named in error messages (``ETX (0x03)``, ``'!'``)."""
    return _NAMES.get(byte, repr(chr(byte)))


def _expect(data: bytes, i: int, want: int, name: str) -> None:
    """Require ``data[i] == want`` (a missing byte means the message was truncated)."""
    if i >= len(data):
        raise _fail(f"truncated {name}", i, _label(want))
    if data[i] != want:
        what = "wrong start byte" if i == 0 else "unexpected byte"
        raise _fail(f"{what} 0x{data[i]:02X} in {name}", i, _label(want))


def _expect_end(data: bytes, i: int, name: str) -> None:
    """Require that the message stops at ``i``: anything after is garbage."""
    if len(data) > i:
        raise _fail(f"garbage 0x{data[i]:02X} after {name}", i, "end of message")


def _expect_line_end(data: bytes, i: int, name: str) -> None:
    """Require that a line message ends with CR LF at ``i`` and nothing after."""
    _expect(data, i, CR, name)
    _expect(data, i + 1, LF, name)
    _expect_end(data, i + 2, name)


def _scan(data: bytes, i: int, end: int, stops: bytes, bad: str, what: str,
          expected: str) -> int:
    """Return the index of the first byte of ``stops`` in ``data[i:end]``.

    Every byte before it must be printable ASCII and not in ``bad``: the text fields of the
    protocol are printable, and delimiters inside them would make the frame ambiguous.
    """
    while i < end:
        byte = data[i]
        if byte in stops:
            return i
        if not 0x20 <= byte <= 0x7E:
            raise _fail(f"non-printable byte 0x{byte:02X} in {what}", i, expected)
        if chr(byte) in bad:
            raise _fail(f"unexpected {chr(byte)!r} in {what}", i, expected)
        i += 1
    raise _fail(f"unterminated {what}", end, expected)


def _check_text(name: str, value: str, bad: str, max_len: int | None = None) -> None:
    """Encoder-side validation: printable ASCII without the field's delimiters."""
    for ch in value:
        if not " " <= ch <= "~" or ch in bad:
            raise ValueError(f"{name} {value!r} contains invalid character {ch!r}")
    if max_len is not None and len(value) > max_len:
        raise ValueError(f"{name} {value!r} is longer than {max_len} characters")


def _check_digit(name: str, value: str) -> None:
    """Encoder-side validation of a one-digit field (protocol control, mode, command type)."""
    if len(value) != 1 or not "0" <= value <= "9":
        raise ValueError(f"{name} must be one digit '0'..'9', not {value!r}")


def _digit_at(data: bytes, i: int, name: str, field: str) -> str:
    """Parser-side: the one-digit field at ``data[i]``, or the ProtocolError saying why not."""
    if i >= len(data):
        raise _fail(f"truncated {name}", i, f"{field} digit")
    if not 0x30 <= data[i] <= 0x39:
        raise _fail(f"bad {field} 0x{data[i]:02X} in {name}", i, f"{field} digit '0'..'9'")
    return chr(data[i])


def _block(start: int, body: bytes) -> bytes:
    """Frame ``body`` as ``start body ETX BCC``."""
    frame = bytes([start]) + body + bytes([ETX])
    return frame + bytes([bcc(frame[1:])])


def _block_end(data: bytes, start: int, name: str) -> int:
    """Check the framing of a whole ``start ... ETX BCC`` message and return the ETX index."""
    _expect(data, 0, start, name)
    etx = data.find(ETX, 1)
    if etx < 0:
        raise _fail(f"missing ETX in {name}", len(data), _NAMES[ETX])
    if etx + 1 >= len(data):
        raise _fail(f"truncated {name}", etx + 1, "BCC byte after ETX")
    want = bcc(data[1:etx + 1])
    if data[etx + 1] != want:
        raise _fail(f"bad BCC 0x{data[etx + 1]:02X} in {name}", etx + 1, f"BCC 0x{want:02X}")
    _expect_end(data, etx + 2, name)
    return etx


# --- baud and BCC ----------------------------------------------------------------------------

def baud_for_char(ch: str, *, offset: int | None = None) -> int:
    """Bits per second for a mode C baud character; ProtocolError for anything else."""
    try:
        return BAUD_RATES[ch]
    except KeyError:
        raise _fail(f"bad baud character {ch!r}", offset, "baud character '0'..'6'") from None


def char_for_baud(baud: int) -> str:
    """The mode C baud character for ``baud`` bits per second (ValueError if mode C has none)."""
    for ch, rate in BAUD_RATES.items():
        if rate == baud:
            return ch
    raise ValueError(f"mode C has no baud character for {baud} Bd")


def bcc(data: bytes) -> int:
    """Block check character: XOR of ``data``, the bytes after SOH/STX up to and including ETX."""
    return reduce(xor, data, 0)


def frame_bcc(frame: bytes) -> int:
    """BCC of a whole frame: from after its first SOH or STX up to and including the next ETX."""
    start = next((i for i, b in enumerate(frame) if b in (SOH, STX)), None)
    if start is None:
        raise _fail("no start byte in frame", 0, "SOH or STX")
    etx = frame.find(ETX, start + 1)
    if etx < 0:
        raise _fail("missing ETX in frame", len(frame), _NAMES[ETX])
    return bcc(frame[start + 1:etx + 1])


# --- request, identification, option select --------------------------------------------------

def encode_request(address: str = "") -> bytes:
    """The sign-on request ``/?<address>!CR LF``; an empty address asks any meter."""
    _check_text("device address", address, _DEVICE_ADDRESS_BAD, max_len=32)
    return b"/?" + address.encode("ascii") + b"!\r\n"


def parse_request(data: bytes) -> str:
    """The device address of a sign-on request (empty for "any meter")."""
    data = bytes(data)
    _expect(data, 0, ord("/"), "request")
    _expect(data, 1, ord("?"), "request")
    end = _scan(data, 2, len(data), b"!", _DEVICE_ADDRESS_BAD, "device address", "'!'")
    _expect_line_end(data, end + 1, "request")
    return data[2:end].decode("ascii")


@dataclass(frozen=True)
class Identification:
    """The meter's answer to a request, ``/XXXZ[\\W]<ident>CR LF``: who it is, which baud."""

    manufacturer: str
    baud_char: str
    identification: str = ""
    enhanced: str | None = None

    def __post_init__(self) -> None:
        if len(self.manufacturer) != 3 or not all(
                c.isascii() and c.isalpha() for c in self.manufacturer):
            raise ValueError(f"manufacturer must be 3 letters, not {self.manufacturer!r}")
        if self.baud_char not in BAUD_RATES:
            raise ValueError(f"baud character must be '0'..'6', not {self.baud_char!r}")
        if self.enhanced is not None and len(self.enhanced) != 1:
            raise ValueError(f"enhanced identification must be 1 character: {self.enhanced!r}")
        _check_text("enhanced identification", self.enhanced or "", _IDENT_BAD)
        _check_text("identification", self.identification, _IDENT_BAD)
        if self.enhanced is None and self.identification.startswith("\\"):
            raise ValueError("identification starting with '\\' would read as enhanced")

    @property
    def fast_reaction(self) -> bool:
        """A lower-case third manufacturer letter means the meter may answer after 20 ms."""
        return self.manufacturer[2].islower()

    @property
    def reaction_time_s(self) -> float:
        """Minimum time the meter takes before answering, in seconds (20 ms or 200 ms)."""
        return FAST_REACTION_S if self.fast_reaction else SLOW_REACTION_S

    @property
    def baud(self) -> int:
        """The highest baud rate the meter offers."""
        return BAUD_RATES[self.baud_char]


def encode_identification(ident: Identification) -> bytes:
    """The identification line for ``ident``."""
    enhanced = "" if ident.enhanced is None else "\\" + ident.enhanced
    text = f"/{ident.manufacturer}{ident.baud_char}{enhanced}{ident.identification}\r\n"
    return text.encode("ascii")


def parse_identification(data: bytes) -> Identification:
    """Parse an identification line (with its CR LF)."""
    data = bytes(data)
    name = "identification"
    _expect(data, 0, ord("/"), name)
    if len(data) < 5:
        raise _fail(f"truncated {name}", len(data), "3 manufacturer letters and baud")
    for i in range(1, 4):
        ch = chr(data[i])
        if not (ch.isascii() and ch.isalpha()):
            raise _fail(f"bad manufacturer letter 0x{data[i]:02X}", i, "letter A-Z or a-z")
    baud_char = chr(data[4])
    baud_for_char(baud_char, offset=4)
    pos, enhanced = 5, None
    if data[5:6] == b"\\":
        if len(data) <= 6:
            raise _fail(f"truncated {name}", 6, "enhanced identification character")
        if not 0x20 <= data[6] <= 0x7E or chr(data[6]) in _IDENT_BAD:
            raise _fail(f"bad enhanced identification 0x{data[6]:02X}", 6,
                        "printable character")
        pos, enhanced = 7, chr(data[6])
    end = _scan(data, pos, len(data), b"\r", _IDENT_BAD, name, "CR LF")
    _expect_line_end(data, end, name)
    return Identification(data[1:4].decode("ascii"), baud_char,
                          data[pos:end].decode("ascii"), enhanced)


@dataclass(frozen=True)
class OptionSelect:
    """The host's acknowledge/option select ``ACK V Z Y CR LF``: protocol, baud and mode."""

    protocol_control: str
    baud_char: str
    mode: str

    def __post_init__(self) -> None:
        _check_digit("protocol control", self.protocol_control)
        _check_digit("mode", self.mode)
        if self.baud_char not in BAUD_RATES:
            raise ValueError(f"baud character must be '0'..'6', not {self.baud_char!r}")

    @property
    def baud(self) -> int:
        """The baud rate both sides switch to after this message."""
        return BAUD_RATES[self.baud_char]


def encode_option_select(option: OptionSelect) -> bytes:
    """The option select line for ``option``."""
    text = option.protocol_control + option.baud_char + option.mode
    return bytes([ACK]) + text.encode("ascii") + CRLF


def parse_option_select(data: bytes) -> OptionSelect:
    """Parse an acknowledge/option select line (with its CR LF)."""
    data = bytes(data)
    name = "option select"
    _expect(data, 0, ACK, name)
    control = _digit_at(data, 1, name, "protocol control")
    if len(data) <= 2:
        raise _fail(f"truncated {name}", 2, "baud character '0'..'6'")
    baud_char = chr(data[2])
    baud_for_char(baud_char, offset=2)
    mode = _digit_at(data, 3, name, "mode")
    _expect_line_end(data, 4, name)
    return OptionSelect(control, baud_char, mode)


# --- data sets and readout -------------------------------------------------------------------

@dataclass(frozen=True)
class DataSet:
    """One ``address(value*unit)`` item of a readout or data message; the address may be empty.

    An empty address is how a second value of the same register (``a(1)(2)``) comes back.
    """

    address: str
    value: str
    unit: str | None = None

    def __post_init__(self) -> None:
        _check_text("data set address", self.address, _ADDRESS_BAD)
        _check_text("data set value", self.value, _VALUE_BAD)
        _check_text("data set unit", self.unit or "", _VALUE_BAD)

    def encode(self) -> bytes:
        """The data set as ``address(value*unit)`` (no line end)."""
        return encode_dataset(self)

    @classmethod
    def parse(cls, data: bytes) -> DataSet:
        """Parse exactly one data set."""
        return parse_dataset(data)


def encode_dataset(dataset: DataSet) -> bytes:
    """``address(value*unit)``, or ``address(value)`` without a unit."""
    unit = "" if dataset.unit is None else "*" + dataset.unit
    return f"{dataset.address}({dataset.value}{unit})".encode("ascii")


def _parse_one(data: bytes, i: int, end: int) -> tuple[DataSet, int]:
    """Parse the data set starting at ``i``; return it and the index after its ``)``."""
    opening = _scan(data, i, end, b"(", _ADDRESS_BAD, "data set address", "'('")
    stop = _scan(data, opening + 1, end, b"*)", _VALUE_BAD, "data set value", "'*' or ')'")
    unit = None
    close = stop
    if data[stop] == ord("*"):
        close = _scan(data, stop + 1, end, b")", _VALUE_BAD, "data set unit", "')'")
        unit = data[stop + 1:close].decode("ascii")
    dataset = DataSet(data[i:opening].decode("ascii"),
                      data[opening + 1:stop].decode("ascii"), unit)
    return dataset, close + 1


def _parse_datasets(data: bytes, i: int, end: int) -> list[DataSet]:
    """Data sets in ``data[i:end]``, any number per line, lines separated by CR/LF."""
    found: list[DataSet] = []
    while i < end:
        if data[i] in CRLF:
            i += 1
            continue
        dataset, i = _parse_one(data, i, end)
        found.append(dataset)
    return found


def parse_dataset(data: bytes) -> DataSet:
    """Parse exactly one data set, with nothing before or after it."""
    data = bytes(data)
    dataset, end = _parse_one(data, 0, len(data))
    _expect_end(data, end, "data set")
    return dataset


def encode_readout(datasets: Iterable[DataSet], *, per_line: int = 1) -> bytes:
    """The data readout block ``STX <lines> ! CR LF ETX BCC``, ``per_line`` data sets a line."""
    if per_line < 1:
        raise ValueError(f"per_line must be at least 1, not {per_line}")
    items = [ds.encode() for ds in datasets]
    lines = [b"".join(items[i:i + per_line]) + CRLF for i in range(0, len(items), per_line)]
    return _block(STX, b"".join(lines) + b"!\r\n")


def parse_readout(data: bytes) -> list[DataSet]:
    """The data sets of a whole data readout block; checks STX, the end ``!``, ETX and BCC."""
    data = bytes(data)
    etx = _block_end(data, STX, "data readout")
    tail = etx - 3
    if tail < 1 or data[tail:etx] != b"!\r\n":
        raise _fail("missing end of data", max(tail, 1), "'!' CR LF before ETX")
    return _parse_datasets(data, 1, tail)
