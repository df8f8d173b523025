"""Serial over GATT for BLE IR heads: the Nordic UART Service UUIDs and our line-control value.

Many BLE optical heads expose a UART the Nordic UART Service (NUS) way: the central writes
bytes to the RX characteristic and receives the head's bytes as notifications of TX. NUS
itself has no way to set the IR side's baud rate, which IEC 62056-21 mode C must change
after the option select; vendors each add a characteristic or an in-band command for it.

meterbench models that as one optional **line-control characteristic** whose value is the
USB CDC-ACM ``LINE_CODING`` structure (CDC PSTN subclass 1.2, 6.3.11 SetLineCoding):
``dwDTERate`` (uint32 little-endian, bit/s), ``bCharFormat`` (0 = 1 stop bit, 1 = 1.5,
2 = 2), ``bParityType`` (0 none, 1 odd, 2 even, 3 mark, 4 space), ``bDataBits``. It is the
structure a USB IR head already receives, so a head's firmware bridging to a UART needs no
translation, and a vendor head with its own scheme is a small subclass of the driver. The
UUID below is meterbench's own (not Nordic's) and every UUID is overridable per bench.
Pure: no I/O.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from harness.errors import ProtocolError

NUS_SERVICE_UUID = "6e400001-b5a3-f393-e0a9-e50e24dcca9e"
NUS_RX_UUID = "6e400002-b5a3-f393-e0a9-e50e24dcca9e"  # written by the central
NUS_TX_UUID = "6e400003-b5a3-f393-e0a9-e50e24dcca9e"  # notified by the head
LINE_CONTROL_UUID = "a123edeb-7134-4da6-961d-445a020d5cd3"  # meterbench line control

_PARITY_CODES = {"N": 0, "O": 1, "E": 2, "M": 3, "S": 4}
_STOP_CODES = {1: 0, 1.5: 1, 2: 2}


@dataclass(frozen=True)
class LineCoding:
    """UART settings of the head's IR side; IEC 62056-21 always uses 7E1."""

    baudrate: int
    bytesize: int = 7
    parity: str = "E"
    stopbits: float = 1


def encode_line_coding(coding: LineCoding) -> bytes:
    """The 7-byte CDC ``LINE_CODING`` value for ``coding``."""
    try:
        return struct.pack("<IBBB", coding.baudrate, _STOP_CODES[coding.stopbits],
                           _PARITY_CODES[coding.parity], coding.bytesize)
    except (KeyError, struct.error) as exc:
        raise ProtocolError(f"cannot encode line coding {coding}: {exc}") from None


def decode_line_coding(value: bytes) -> LineCoding:
    """Parse a ``LINE_CODING`` value; a bare 4-byte baud rate means 7E1 at that rate."""
    if len(value) == 4:
        return LineCoding(struct.unpack("<I", value)[0])
    if len(value) != 7:
        raise ProtocolError(f"line coding must be 4 or 7 bytes, not {len(value)}",
                            offset=min(len(value), 7))
    baud, stop, parity, bits = struct.unpack("<IBBB", value)
    parities = {v: k for k, v in _PARITY_CODES.items()}
    stops = {v: k for k, v in _STOP_CODES.items()}
    if parity not in parities:
        raise ProtocolError(f"line coding: unknown parity code {parity}", offset=5)
    if stop not in stops:
        raise ProtocolError(f"line coding: unknown stop-bit code {stop}", offset=4)
    if bits not in (5, 6, 7, 8, 16):
        raise ProtocolError(f"line coding: invalid data bits {bits}", offset=6)
    return LineCoding(baud, bits, parities[parity], stops[stop])
