"""IEC 62056-21 mode C programming mode: commands (P, W, R, E, B) and the meter's answers.

Pure codecs, no I/O; framing rules and error conventions as in ``iec62056_21``: a command is
``SOH C D [STX address(data)] ETX BCC``, an answer is ACK, NAK, ``STX (data) ETX BCC``, an
error message ``STX (ERROR_TEXT) ETX BCC`` or a command from the meter (its ``P0`` prompt).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, get_args

from harness.protocols.iec62056_21 import (
    _ADDRESS_BAD,
    _NAMES,
    ACK,
    ETX,
    NAK,
    SOH,
    STX,
    DataSet,
    _block,
    _block_end,
    _check_digit,
    _check_text,
    _digit_at,
    _expect,
    _expect_end,
    _fail,
    _parse_datasets,
    _scan,
)

__all__ = [
    "COMMAND_LETTERS", "Answer", "AnswerKind", "Command", "encode_answer", "encode_command",
    "is_error_text", "parse_answer", "parse_command",
]

COMMAND_LETTERS = "PWREB"
"""Programming-mode commands: password, write, read, execute, break (sign-off)."""

AnswerKind = Literal["ack", "nak", "data", "error", "command"]
"""``command`` covers a meter that answers with a command frame (the ``P0`` password prompt)."""

_COMMAND_DATA_BAD = "()"


@dataclass(frozen=True)
class Command:
    """A programming-mode command ``SOH C D [STX address(data)] ETX BCC``.

    ``data`` is the text inside the brackets (None: no STX part at all, as in ``B0``).
    """

    command: str
    command_type: str
    data: str | None = None
    address: str = ""

    def __post_init__(self) -> None:
        if len(self.command) != 1 or self.command not in COMMAND_LETTERS:
            raise ValueError(f"command must be one of {COMMAND_LETTERS}, not {self.command!r}")
        _check_digit("command type", self.command_type)
        if self.data is None and self.address:
            raise ValueError("a command with an address needs data (may be empty)")
        _check_text("command address", self.address, _ADDRESS_BAD)
        _check_text("command data", self.data or "", _COMMAND_DATA_BAD)

    @classmethod
    def password(cls, password: str, command_type: str = "1") -> Command:
        """``P1`` (or ``P2``) carrying a password or its secured form."""
        return cls("P", command_type, password)

    @classmethod
    def read(cls, address: str, data: str = "") -> Command:
        """``R1 address(data)``: read a register (data may give a length)."""
        return cls("R", "1", data, address)

    @classmethod
    def write(cls, address: str, value: str) -> Command:
        """``W1 address(value)``: write a register."""
        return cls("W", "1", value, address)

    @classmethod
    def sign_off(cls) -> Command:
        """``B0``: break, leave programming mode."""
        return cls("B", "0")


def encode_command(command: Command) -> bytes:
    """The command frame; BCC from after SOH up to and including ETX."""
    head = (command.command + command.command_type).encode("ascii")
    if command.data is None:
        return _block(SOH, head)
    body = f"{command.address}({command.data})".encode("ascii")
    return _block(SOH, head + bytes([STX]) + body)


def parse_command(data: bytes) -> Command:
    """Parse a whole programming-mode command frame."""
    data = bytes(data)
    name = "command"
    etx = _block_end(data, SOH, name)
    if data[1] not in COMMAND_LETTERS.encode("ascii"):
        raise _fail(f"bad command letter 0x{data[1]:02X}", 1, f"one of {COMMAND_LETTERS}")
    command_type = _digit_at(data, 2, name, "command type")
    if etx == 3:
        return Command(chr(data[1]), command_type)
    _expect(data, 3, STX, name)
    opening = _scan(data, 4, etx, b"(", _ADDRESS_BAD, "command address", "'('")
    close = _scan(data, opening + 1, etx, b")", _COMMAND_DATA_BAD, "command data", "')'")
    if close + 1 != etx:
        raise _fail(f"garbage 0x{data[close + 1]:02X} in {name}", close + 1, _NAMES[ETX])
    return Command(chr(data[1]), command_type, data[opening + 1:close].decode("ascii"),
                   data[4:opening].decode("ascii"))


def is_error_text(text: str) -> bool:
    """Default test for an error message's text: meters answer ``(ERROR)``, ``(ER01)`` etc."""
    return text.upper().startswith("ER")


@dataclass(frozen=True)
class Answer:
    """What a meter says in programming mode: ACK, NAK, data, an error or a command (``P0``)."""

    kind: AnswerKind
    datasets: tuple[DataSet, ...] = ()
    error: str | None = None
    command: Command | None = None

    def __post_init__(self) -> None:
        if self.kind not in get_args(AnswerKind):
            raise ValueError(f"unknown answer kind {self.kind!r}")
        object.__setattr__(self, "datasets", tuple(self.datasets))
        if self.datasets and self.kind != "data":
            raise ValueError(f"a {self.kind} answer has no data sets")
        if (self.error is not None) != (self.kind == "error"):
            raise ValueError("error text goes with (and only with) an error answer")
        if (self.command is not None) != (self.kind == "command"):
            raise ValueError("a command goes with (and only with) a command answer")
        _check_text("error text", self.error or "", _COMMAND_DATA_BAD)


def encode_answer(answer: Answer) -> bytes:
    """The bytes of ``answer``: one ACK/NAK byte, or a framed message."""
    if answer.kind == "ack":
        return bytes([ACK])
    if answer.kind == "nak":
        return bytes([NAK])
    if answer.command is not None:
        return encode_command(answer.command)
    if answer.error is not None:
        return _block(STX, f"({answer.error})".encode("ascii"))
    return _block(STX, b"".join(ds.encode() for ds in answer.datasets))


def parse_answer(data: bytes, *, is_error: Callable[[str], bool] = is_error_text) -> Answer:
    """Parse a meter's answer in programming mode.

    A data message whose only content is ``(text)`` with ``is_error(text)`` true is an error
    message; error texts are manufacturer-specific, so a device profile may pass its own test.
    """
    data = bytes(data)
    if not data:
        raise _fail("truncated answer", 0, "ACK, NAK, SOH or STX")
    if data[0] in (ACK, NAK):
        _expect_end(data, 1, "answer")
        return Answer("ack" if data[0] == ACK else "nak")
    if data[0] == SOH:
        return Answer("command", command=parse_command(data))
    if data[0] != STX:
        raise _fail(f"wrong start byte 0x{data[0]:02X} in answer", 0, "ACK, NAK, SOH or STX")
    etx = _block_end(data, STX, "answer")
    body = data[1:etx]
    if body[:1] == b"(" and body[-1:] == b")" and len(body) >= 2:
        inner = body[1:-1]
        if all(0x20 <= b <= 0x7E and b not in b"()" for b in inner):
            text = inner.decode("ascii")
            if is_error(text):
                return Answer("error", error=text)
    return Answer("data", tuple(_parse_datasets(data, 1, etx)))
