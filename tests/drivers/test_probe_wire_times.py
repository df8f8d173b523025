"""The optical probe's line times of an exchange (TRI-DIAG-01's bounds on when a meter read its
clock): the first message sent and the last whole message received since a mark, at the baud
each crossed the line; nothing on an emulated port told not to keep a line's pace."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from harness.config.models import InstrumentConfig
from harness.drivers.optical.serial_probe import SerialOpticalProbe
from harness.emulator.optical.device_registers import optical_password, registers_for_device
from harness.emulator.optical.server import OpticalPortServer
from harness.emulator.world.clock import ManualClock
from harness.emulator.world.models import create_device


def optical_password_for(server: OpticalPortServer) -> str:
    """The emulated meter's programming password."""
    return optical_password(server.registers.device)


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


def _watched(p: SerialOpticalProbe) -> tuple[list[float], list[float]]:
    """Wrap the probe's port calls: when each write began and each chunk had come in."""
    writes: list[float] = []
    chunks: list[float] = []
    write, read = p._write, p._read

    def watched_write(data: bytes) -> None:
        writes.append(time.monotonic())
        write(data)

    def watched_read(timeout: float) -> bytes:
        data = read(timeout)
        if data:
            chunks.append(time.monotonic())
        return data

    p._write, p._read = watched_write, watched_read  # type: ignore[method-assign]
    return writes, chunks


@pytest.mark.parametrize("session", ["mode C", "DLMS"])
def test_the_stamps_bound_a_read_at_the_port_not_around_the_call(
        server: OpticalPortServer, session: str) -> None:
    """The request's stamp is taken just before its bytes went to the port, the answer's
    when the chunk completing it came in: inside the call, and no later than the port's own
    events (a bound taken after them would be looser than the line allows, before them
    unsafe)."""
    with probe(server.resource, emulated=True, baud_accurate=False) as p:
        opened = (p.dlms() if session == "DLMS"
                  else p.programming(optical_password_for(server)))
        with opened as link:
            writes, chunks = _watched(p)
            p.mark_wire()
            assert p.wire_stamps() == (None, None)
            began = time.monotonic()
            if session == "DLMS":
                link.get(8, "0.0.1.0.0.255", 2)
            else:
                link.read("0.9.0")
            ended = time.monotonic()
            sent, heard = p.wire_stamps()
    assert sent is not None and heard is not None
    last_chunk = max(c for c in chunks if c <= ended)  # closing the session reads on
    assert began <= sent <= writes[0] < last_chunk <= heard <= ended
    p.mark_wire()
    assert p.wire_stamps() == (None, None)
