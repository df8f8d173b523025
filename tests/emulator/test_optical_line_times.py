"""The emulated optical port in baud-accurate mode (the bench default) keeps a real line's times:
a request is acted on only once its last byte has landed, an answer leaves after the reaction
time and its last byte arrives its wire time after its first; a fast bench runs them faster.
TRI-DIAG-01's bounds on when a meter read its clock rest on exactly these."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from harness.emulator.optical.device_registers import registers_for_device
from harness.emulator.optical.server import OpticalPortServer
from harness.emulator.world.clock import ManualClock
from harness.emulator.world.models import create_device

REQUEST = b"/?!\r\n"
BITS = 10  # 7E1 with start and stop bits
REACTION_S = 0.02  # the model's flag has a lower-case third letter: 20 ms answers
SLACK_S = 0.004  # the host's own scheduling, allowed on the early side only


class _Scaled(ManualClock):
    """A manual device clock that says it runs ``scale`` times faster (a fast bench)."""

    def __init__(self, scale: float) -> None:
        super().__init__()
        self.scale = scale


@pytest.fixture(params=[1.0, 10.0], ids=["real-time", "fast x10"])
def port(request: pytest.FixtureRequest) -> Iterator[tuple[socket.socket, float]]:
    clock = _Scaled(request.param)
    device = create_device("esme", "ESME", "EMU-ESME-1", clock=clock, seed=3)
    device.supply(230.0)
    clock.advance(5)
    server = OpticalPortServer(registers_for_device(device), clock, transport="socket",
                               baud_accurate=True)
    server.start()
    host, port_number = server.resource.removeprefix("socket://").split(":")
    sock = socket.create_connection((host, int(port_number)), timeout=5)
    try:
        yield sock, request.param
    finally:
        sock.close()
        server.stop()


def _answer(sock: socket.socket) -> tuple[bytes, float, float]:
    """The identification line, with when its first and last bytes arrived."""
    data, first = b"", 0.0
    while not data.endswith(b"\r\n"):
        chunk = sock.recv(256)
        assert chunk, "the port closed"
        if not data:
            first = time.monotonic()
        data += chunk
    return data, first, time.monotonic()


def test_the_answer_waits_for_the_request_to_land_and_crosses_the_line_at_the_baud(
        port: tuple[socket.socket, float]) -> None:
    sock, scale = port
    sent = time.monotonic()
    sock.sendall(REQUEST)
    answer, first, last = _answer(sock)
    request_s = len(REQUEST) * BITS / 300 / scale
    answer_s = len(answer) * BITS / 300 / scale
    assert answer.startswith(b"/EMh")
    # The first byte cannot leave before the request landed and the reaction time passed.
    assert first - sent >= request_s + REACTION_S / scale - SLACK_S
    # The last byte arrives no sooner than the whole answer's wire time after the request
    # landed: the lower bound the probe takes for when the meter began its answer holds.
    assert last - sent >= request_s + REACTION_S / scale + answer_s - SLACK_S
    # ... and not much later either (the emulator adds no waits of its own).
    assert last - sent <= request_s + REACTION_S / scale + answer_s + 0.25


def test_a_meter_that_started_again_listens_afresh_whatever_was_under_way() -> None:
    """A meter powered off in the middle of a programming session (before the sign-off
    landed, as a prompt baud change lets a test's power-off do) starts again idle at
    300 Bd: the next sign-on is answered, not met with an answer at the old session's baud."""
    from harness.config.models import InstrumentConfig
    from harness.drivers.optical.serial_probe import SerialOpticalProbe

    clock = ManualClock()
    device = create_device("esme", "ESME", "EMU-ESME-1", clock=clock, seed=3)
    device.supply(230.0)
    clock.advance(5)
    registers = registers_for_device(device)
    server = OpticalPortServer(registers, clock, transport="rfc2217", baud_accurate=True)
    server.start()
    config = InstrumentConfig(kind="optical_probe", backend="serial", address=server.resource,
                              timeout_s=1.0, options={"retries": 1})
    probe = SerialOpticalProbe("probe", config)
    try:
        with probe:
            programming = probe.programming(registers.password)  # held: never signed off
            session = programming.__enter__()
            assert session.read("0.0.1")
            device.supply(0.0)  # the power goes, mid-session
            clock.advance(2)
            device.supply(230.0)
            clock.advance(5)
            assert probe.sign_on().identification == "EMU-ESME-1"
            programming.__exit__(None, None, None)  # signs off the new session
    finally:
        server.stop()
