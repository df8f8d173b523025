"""A sign-on request repeated after a slow answer can be answered twice: the late
identification must not be read as the next answer (the session would stay one answer
behind: a readout parsed from an identification, a mode E acknowledgement refused)."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

import pytest

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


class TwiceAnsweringMeter:
    """Answers every sign-on request with its identification twice (as a meter does that
    answered a request and its repeat), then a readout or a mode E acknowledgement."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.05)
        self.port = self.listener.getsockname()[1]
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except (TimeoutError, OSError):
                continue
            with conn, contextlib.suppress(OSError):
                conn.settimeout(0.05)
                buffer = b""
                while not self.stop.is_set():
                    try:
                        data = conn.recv(4096)
                    except TimeoutError:
                        continue
                    if not data:
                        break
                    buffer += data
                    if b"!\r\n" in buffer:
                        buffer = b""
                        conn.sendall(IDENT + IDENT)
                    elif buffer.startswith(b"\x06") and buffer.endswith(b"\r\n"):
                        mode = buffer[3:4]
                        buffer = b""
                        conn.sendall(READOUT if mode == b"0" else MODE_E_ACK)

    def close(self) -> None:
        self.stop.set()
        self.listener.close()
        self.thread.join(timeout=5)


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
