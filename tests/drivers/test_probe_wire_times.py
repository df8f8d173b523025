"""The optical probe's line times of an exchange (TRI-DIAG-01's bounds on when a meter read its
clock): the first message sent and the last whole message received since a mark, at the baud
each crossed the line; nothing on an emulated port told not to keep a line's pace."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.config.models import InstrumentConfig
from harness.drivers.optical.serial_probe import SerialOpticalProbe
from harness.emulator.optical.device_registers import registers_for_device
from harness.emulator.optical.server import OpticalPortServer
from harness.emulator.world.clock import ManualClock
from harness.emulator.world.models import create_device


@pytest.fixture
def server() -> Iterator[OpticalPortServer]:
    clock = ManualClock()
    device = create_device("esme", "ESME", clock=clock, seed=5)
    device.supply(230.0)
    clock.advance(5.0)
    srv = OpticalPortServer(registers_for_device(device), clock, transport="socket",
                            baud_accurate=True)
    srv.start()
    yield srv
    srv.stop()


def probe(address: str, *, emulated: bool = False, **options: object) -> SerialOpticalProbe:
    config = InstrumentConfig(kind="optical_probe", backend="serial", address=address,
                              timeout_s=2.0, emulated=emulated, options=options)
    return SerialOpticalProbe("probe", config, sleep=lambda s: None)


def test_a_sign_on_is_the_request_and_the_identification_at_300_baud(
        server: OpticalPortServer) -> None:
    with probe(server.resource) as p:
        p.mark_wire()
        ident = p.sign_on()
        out, back = p.wire_times()
    assert out == pytest.approx(len(b"/?!\r\n") * 10 / 300)
    line = (f"/{ident.manufacturer}{ident.baud_char}"
            + (f"\\{ident.enhanced}" if ident.enhanced else "") + f"{ident.identification}\r\n")
    assert back == pytest.approx(len(line) * 10 / 300)


def test_a_dlms_read_is_its_request_and_answer_frames_at_9600_baud(
        server: OpticalPortServer) -> None:
    with probe(server.resource) as p, p.dlms() as dlms:
        p.mark_wire()
        dlms.get(8, "0.0.1.0.0.255", 2)
        out, back = p.wire_times()
    char = 10 / 9600
    assert round(out / char) == pytest.approx(out / char) and 15 <= out / char <= 40
    assert round(back / char) == pytest.approx(back / char) and 20 <= back / char <= 50


def test_an_emulated_port_not_keeping_the_line_pace_gives_no_line_times(
        server: OpticalPortServer) -> None:
    with probe(server.resource, emulated=True, baud_accurate=False) as p:
        p.mark_wire()
        p.sign_on()
        assert p.wire_times() == (0.0, 0.0)
