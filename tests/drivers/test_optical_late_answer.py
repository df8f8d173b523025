"""A sign-on request repeated after a slow answer can be answered twice: the late
identification must not be read as the next answer (the session would stay one answer
behind: a readout parsed from an identification, a mode E acknowledgement refused)."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from _loopback_peer import LoopbackPeer

from harness.config.models import InstrumentConfig
from harness.drivers.optical.dlms import MODE_BINARY, PROTOCOL_HDLC, DlmsSession
from harness.drivers.optical.serial_probe import SerialOpticalProbe
from harness.protocols.iec62056_21 import (
    DataSet,
    Identification,
    OptionSelect,
    encode_identification,
    encode_option_select,
    encode_readout,
)

IDENT = encode_identification(Identification("ABC", "0", "TWICE"))  # stays at 300 Bd
READOUT = encode_readout([DataSet("1.8.0", "000123.4", "kWh")])
MODE_E_ACK = b"\x062Z2\r\n"


class TwiceAnsweringMeter(LoopbackPeer):
    """Answers every sign-on request with its identification twice (as a meter does that
    answered a request and its repeat), then a readout or a mode E acknowledgement."""

    def received(self, conn: socket.socket, buffer: bytes) -> bytes:
        if b"!\r\n" in buffer:
            conn.sendall(IDENT + IDENT)
            return b""
        if buffer.startswith(b"\x06") and buffer.endswith(b"\r\n"):
            conn.sendall(READOUT if buffer[3:4] == b"0" else MODE_E_ACK)
            return b""
        return buffer


@pytest.fixture
def probe() -> Iterator[SerialOpticalProbe]:
    meter = TwiceAnsweringMeter()
    config = InstrumentConfig(kind="optical_probe", backend="serial",
                              address=f"socket://127.0.0.1:{meter.port}", timeout_s=1.0,
                              options={"retries": 1})
    opened = SerialOpticalProbe("probe", config).open()
    yield opened
    opened.close()
    meter.close()


def test_a_late_identification_is_not_read_as_the_readout(probe: SerialOpticalProbe) -> None:
    readout = probe.readout()
    assert readout.identification.identification == "TWICE"
    assert [(d.address, d.value) for d in readout.datasets] == [("1.8.0", "000123.4")]


def test_a_late_identification_is_not_read_as_the_mode_e_acknowledgement(
        probe: SerialOpticalProbe) -> None:
    ident = probe.sign_on()
    assert ident.identification == "TWICE"
    probe._send(encode_option_select(OptionSelect(PROTOCOL_HDLC, "0", MODE_BINARY)))
    DlmsSession(probe)._mode_e_acknowledgement()  # the ACK 2 Z 2, not the second ident
