"""EZSP frames: the header (sequence, frame control, frame id) around a command's parameters.

Pure: no I/O.  Silicon Labs UG100 ("EZSP Reference Guide", section "Protocol Format") gives the
legacy header, ``sequence, frame control (1 byte), frame id (1 byte)``, of EZSP versions up to
7; UG600 ("EZSP Reference Guide" for EmberZNet 6.7+, EZSP version 8 and later) the extended
one, ``sequence, frame control (2 bytes), frame id (2 bytes, little endian)``.  The ``version``
command is always sent in the legacy form first (the host does not yet know the NCP's
version), and an NCP of version 8+ answers that first ``version`` in the legacy form too.

Frame control, low byte: bit 7 is 1 in a response; bits 6-5 the network index; in a command
bits 1-0 the sleep mode; in a response bits 4-3 the callback type (0 none, 1 synchronous,
2 asynchronous), bit 2 callback pending, bit 1 truncated, bit 0 overflow.  High byte
(extended only): bit 7 security enabled, bit 6 padding enabled, bits 1-0 the frame format
version (1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from harness.protocols.ezsp.errors import EzspFrameError

__all__ = [
    "EXTENDED_FROM",
    "FRAME_FORMAT_VERSION",
    "MAX_EZSP_FRAME",
    "EzspFrame",
    "decode_ezsp",
    "encode_ezsp",
    "is_extended",
]

EXTENDED_FROM: Final = 8
"""The first EZSP protocol version with the extended (2-byte) frame control and frame id."""
FRAME_FORMAT_VERSION: Final = 1
"""Bits 1-0 of the extended frame control's high byte (UG600)."""
MAX_EZSP_FRAME: Final = 128
"""An EZSP frame rides in one ASH DATA field, at most 128 bytes (UG101)."""

CALLBACK_NONE: Final = 0
CALLBACK_SYNC: Final = 1
CALLBACK_ASYNC: Final = 2


def is_extended(version: int) -> bool:
    """Whether EZSP ``version`` uses the extended header (8 and later)."""
    return version >= EXTENDED_FROM


@dataclass(frozen=True)
class EzspFrame:
    """One EZSP frame: header fields and the still-encoded ``parameters``.

    ``callback_type``, ``callback_pending``, ``truncated`` and ``overflow`` are response fields;
    ``sleep_mode`` a command field.  ``extended`` says which header it had (or will have).
    """

    sequence: int
    frame_id: int
    is_response: bool
    parameters: bytes = b""
    extended: bool = False
    network_index: int = 0
    sleep_mode: int = 0
    callback_type: int = CALLBACK_NONE
    callback_pending: bool = False
    truncated: bool = False
    overflow: bool = False
    security_enabled: bool = False
    padding_enabled: bool = False

    def __post_init__(self) -> None:
        limit = 0xFFFF if self.extended else 0xFF
        checks = (("sequence", self.sequence, 0xFF), ("frame id", self.frame_id, limit),
                  ("network index", self.network_index, 3), ("sleep mode", self.sleep_mode, 3),
                  ("callback type", self.callback_type, 3))
        for name, value, top in checks:
            if not isinstance(value, int) or not 0 <= value <= top:
                raise EzspFrameError(f"EZSP: {name} must be 0..{top}, got {value!r}", field=name)
        if self.security_enabled or self.padding_enabled:
            raise EzspFrameError("EZSP: security and padding (UG600) are not supported here",
                                 frame_id=self.frame_id)

    @property
    def is_callback(self) -> bool:
        """Whether this response is a callback (synchronous or asynchronous)."""
        return self.is_response and self.callback_type in (CALLBACK_SYNC, CALLBACK_ASYNC)

    def control_low(self) -> int:
        """The frame control's (low) byte."""
        value = (int(self.is_response) << 7) | (self.network_index << 5)
        if self.is_response:
            value |= (self.callback_type << 3) | (int(self.callback_pending) << 2)
            value |= (int(self.truncated) << 1) | int(self.overflow)
        else:
            value |= self.sleep_mode
        return value


def encode_ezsp(frame: EzspFrame) -> bytes:
    """The bytes of ``frame``: its header in the form ``frame.extended`` says, then parameters."""
    if frame.extended:
        header = bytes((frame.sequence, frame.control_low(), FRAME_FORMAT_VERSION))
        header += frame.frame_id.to_bytes(2, "little")
    else:
        header = bytes((frame.sequence, frame.control_low(), frame.frame_id))
    data = header + frame.parameters
    if len(data) > MAX_EZSP_FRAME:
        raise EzspFrameError(
            f"EZSP: frame 0x{frame.frame_id:04X} is {len(data)} bytes; at most {MAX_EZSP_FRAME} "
            "fit in one ASH DATA frame",
            frame_id=frame.frame_id,
        )
    return data


def decode_ezsp(data: bytes, *, extended: bool) -> EzspFrame:
    """Decode one EZSP frame with the header ``extended`` says (``is_extended(version)`` once
    the NCP's version is known; legacy for the first ``version`` exchange)."""
    if len(data) < 3:
        raise EzspFrameError(f"EZSP: a frame is at least 3 bytes, got {len(data)}",
                             offset=len(data))
    if len(data) > MAX_EZSP_FRAME:
        raise EzspFrameError(f"EZSP: a frame is at most {MAX_EZSP_FRAME} bytes, got {len(data)}",
                             offset=MAX_EZSP_FRAME)
    sequence, low = data[0], data[1]
    if extended:
        if len(data) < 5:
            raise EzspFrameError(f"EZSP: an extended frame is at least 5 bytes, got {len(data)}",
                                 offset=len(data))
        high = data[2]
        if high & 0x03 != FRAME_FORMAT_VERSION:
            raise EzspFrameError(
                f"EZSP: frame format version {high & 0x03} in frame control 0x{high:02X}, "
                f"expected {FRAME_FORMAT_VERSION}",
                offset=2,
            )
        if high & 0xC0:
            raise EzspFrameError(
                f"EZSP: frame control high byte 0x{high:02X} asks for security or padding, "
                "which this codec does not support",
                offset=2,
            )
        frame_id, params = int.from_bytes(data[3:5], "little"), data[5:]
    else:
        frame_id, params = data[2], data[3:]
    response = bool(low & 0x80)
    return EzspFrame(
        sequence=sequence,
        frame_id=frame_id,
        is_response=response,
        parameters=bytes(params),
        extended=extended,
        network_index=(low >> 5) & 0x03,
        sleep_mode=0 if response else low & 0x03,
        callback_type=(low >> 3) & 0x03 if response else CALLBACK_NONE,
        callback_pending=bool(low & 0x04) if response else False,
        truncated=bool(low & 0x02) if response else False,
        overflow=bool(low & 0x01) if response else False,
    )
