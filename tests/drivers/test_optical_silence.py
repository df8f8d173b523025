"""The fast bench's adaptive floor: a silent optical port is judged at the meter's own scaled
timeout while the host is free, and only after the wall floor while the host's tasks wait for
a CPU (or nothing says), so a loaded host is never taken for a silent port."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from _loopback_peer import LoopbackPeer

from harness.config.models import InstrumentConfig
from harness.drivers.optical.base import MIN_TIMEOUT_S
from harness.drivers.optical.serial_probe import SerialOpticalProbe
from harness.drivers.silence import (
    SATURATED_FACTOR,
    SATURATED_SHARE,
    STALL_SHARE,
    Silence,
    StallClock,
    cpu_stall_s,
    others_cpu_s,
)
from harness.errors import InstrumentTimeoutError

IDENTIFICATION = b"/ABC5TEST\r\n"


class Clock:
    """A hand-turned monotonic clock, and a CPU-stall counter that runs at ``share`` of it."""

    def __init__(self, share: float | None) -> None:
        self.now, self.share = 0.0, share

    def __call__(self) -> float:
        return self.now

    def stall(self) -> float | None:
        return None if self.share is None else self.now * self.share


def _silence(share: float | None) -> tuple[Silence, Clock]:
    clock = Clock(share)
    return Silence(0.01, 1.0, clock.stall, clock, busy_clock=lambda: 0.0), clock


def test_free_host_judges_at_the_devices_timeout() -> None:
    silence, clock = _silence(0.0)
    clock.now = 0.009
    assert not silence.over()
    clock.now = 0.011
    assert silence.over()
    silence.heard()  # bytes came: silent again from now
    clock.now = 0.02
    assert not silence.over()


@pytest.mark.parametrize("share", [STALL_SHARE * 1.5, SATURATED_SHARE, None],
                         ids=["busy", "half-busy", "no-pressure-figures"])
def test_busy_or_unknown_host_waits_the_wall_floor(share: float | None) -> None:
    silence, clock = _silence(share)
    for clock.now in (0.011, 0.5, 0.99):
        assert not silence.over()
    clock.now = 1.001
    assert silence.over()


def test_a_saturated_host_is_heard_out_past_the_floor() -> None:
    """Tasks waiting for a CPU most of the floor: an emulated meter has not had its turn yet."""
    silence, clock = _silence(0.9)
    for clock.now in (1.001, 2.0, SATURATED_FACTOR - 0.01):
        assert not silence.over()
    clock.now = SATURATED_FACTOR + 0.01
    assert silence.over()
    assert "waited for a CPU 90% of that silence" in silence.host_note()


def test_a_free_host_says_nothing_of_itself() -> None:
    silence, clock = _silence(0.0)
    clock.now = 0.5
    assert silence.host_note() == ""


def test_a_busy_process_waits_the_wall_floor() -> None:
    """The host's tasks hardly waited for a CPU, but the harness's own process worked for half
    of the silence: an emulated meter in it may have waited for the interpreter's lock."""
    clock = Clock(0.0)
    silence = Silence(0.01, 1.0, clock.stall, clock, busy_clock=lambda: clock.now * 0.5)
    for clock.now in (0.011, 0.5, 0.99):
        assert not silence.over()
    clock.now = 1.001
    assert silence.over()


def test_pieces_of_one_answer_do_not_each_ask_for_the_figures() -> None:
    """An answer comes in many pieces: the figures are taken again only after a tenth of the
    device's timeout (half the share a silence may stall), and a silence then still counts
    the CPU since the older figures (more than its own: it waits longer, never less)."""
    clock, asked = Clock(0.0), []

    def stall() -> float:
        asked.append(clock.now)
        return 0.0

    busy = {"s": 0.0}
    silence = Silence(0.01, 1.0, stall, clock, busy_clock=lambda: busy["s"])
    for clock.now in (0.0001, 0.0002, 0.0003, 0.0004):
        silence.heard()
    assert asked == [0.0]
    clock.now = 0.0006
    silence.heard()
    assert asked == [0.0, 0.0006]
    busy["s"] = 0.0012  # worked before the last piece came, since the figures were taken
    clock.now = 0.0007
    silence.heard()
    clock.now = 0.0007 + 0.011
    assert not silence.over()  # 1.2 ms of work counted against 1.1 ms allowed


def test_the_waiting_threads_own_polling_is_not_the_process_being_busy() -> None:
    """Only the other threads' CPU counts: the thread that waits for the port (its polling
    loop) does not, and another thread's work does."""
    def spin(seconds: float) -> None:
        end = time.thread_time() + seconds
        while time.thread_time() < end:
            pass

    before = others_cpu_s()
    spin(0.05)
    assert others_cpu_s() - before < 0.02
    worker = threading.Thread(target=spin, args=(0.05,))
    worker.start()
    worker.join()
    assert others_cpu_s() - before >= 0.045


def test_stall_figures_from_the_kernel(tmp_path: Path) -> None:
    pressure = tmp_path / "cpu"
    pressure.write_text("some avg10=2.62 avg60=5.86 avg300=12.75 total=5324890952\n"
                        "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n")
    assert cpu_stall_s(pressure) == pytest.approx(5324.890952)
    pressure.write_text("nonsense\n")
    assert cpu_stall_s(pressure) is None
    assert cpu_stall_s(tmp_path / "absent") is None


def test_stall_figures_are_read_through_one_descriptor(tmp_path: Path) -> None:
    """The figure is asked for at every byte heard: the file is opened once, then re-read in
    place (a new figure is seen; the descriptor outlives the name)."""
    pressure = tmp_path / "cpu-kept"
    pressure.write_text("some avg10=0.00 avg60=0.00 avg300=0.00 total=1000000\n")
    assert cpu_stall_s(pressure) == pytest.approx(1.0)
    with pressure.open("r+") as f:  # the same file, a later figure
        f.write("some avg10=0.00 avg60=0.00 avg300=0.00 total=2500000\n")
    assert cpu_stall_s(pressure) == pytest.approx(2.5)
    pressure.unlink()
    assert cpu_stall_s(pressure) == pytest.approx(2.5)


class LateMeter(LoopbackPeer):
    """A socket peer that answers a sign-on request after ``delay_s`` (None: never)."""

    def __init__(self, delay_s: float | None) -> None:
        self.delay_s = delay_s
        super().__init__()

    def received(self, conn: socket.socket, buffer: bytes) -> bytes:
        if b"!\r\n" in buffer and self.delay_s is not None:
            time.sleep(self.delay_s)
            conn.sendall(IDENTIFICATION)
            return b""
        return buffer


@pytest.fixture
def meter(request: pytest.FixtureRequest) -> Iterator[LateMeter]:
    peer = LateMeter(request.param)
    yield peer
    peer.close()


def _probe(port: int, stall: StallClock) -> SerialOpticalProbe:
    config = InstrumentConfig(kind="optical_probe", backend="serial",
                              address=f"socket://127.0.0.1:{port}", timeout_s=1.0,
                              options={"retries": 1})
    probe = SerialOpticalProbe("probe", config, stall_clock=stall)
    probe.time_scale = 100.0  # the meter may stay silent 10 ms of wall time
    return probe.open()


def _busy() -> float:
    return time.monotonic()  # every task waited for a CPU the whole time


def _free() -> float:
    return 0.0


@pytest.mark.parametrize("meter", [None], indirect=True)
def test_a_dead_port_on_a_free_host_is_judged_without_the_floor(meter: LateMeter) -> None:
    probe = _probe(meter.port, _free)
    started = time.monotonic()
    with pytest.raises(InstrumentTimeoutError):
        probe.sign_on()
    assert time.monotonic() - started < MIN_TIMEOUT_S / 2
    probe.close()


@pytest.mark.parametrize("stall", [_busy, lambda: None], ids=["busy", "no-figures"])
@pytest.mark.parametrize("meter", [None], indirect=True)
def test_a_dead_port_on_a_busy_host_waits_the_floor(meter: LateMeter, stall: StallClock) -> None:
    probe = _probe(meter.port, stall)
    started = time.monotonic()
    with pytest.raises(InstrumentTimeoutError):
        probe.sign_on()
    assert time.monotonic() - started >= MIN_TIMEOUT_S
    probe.close()


@pytest.mark.parametrize("meter", [0.3], indirect=True)
def test_a_meter_late_because_the_host_is_busy_is_still_heard(meter: LateMeter) -> None:
    probe = _probe(meter.port, _busy)
    assert probe.sign_on().manufacturer == "ABC"
    probe.close()


@pytest.mark.parametrize("meter", [0.3], indirect=True)
def test_the_same_delay_on_a_free_host_is_the_meters_silence(meter: LateMeter) -> None:
    probe = _probe(meter.port, _free)  # 0.3 s at x100: 30 s of the meter's time
    with pytest.raises(InstrumentTimeoutError):
        probe.sign_on()
    probe.close()


def test_an_answer_already_in_is_taken_without_judging_a_silence(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A silence is judged from the first wait on: an in-process meter's answer is in when
    the request's write returns, and starting a silence then (which reads the host's figures
    on a port that has them) only widened the read. A dead meter's silence is still judged."""
    from _sample_meter import sample_meter

    from harness.emulator.optical.registers import PortBehaviour
    from harness.emulator.optical.server import OpticalPortServer

    registers = sample_meter()
    server = OpticalPortServer(registers, transport="inprocess")
    server.start()
    config = InstrumentConfig(kind="optical_probe", backend="serial", address=server.resource,
                              timeout_s=1.0, options={"retries": 1})
    probe = SerialOpticalProbe("probe", config)
    probe.time_scale = 100.0
    judged: list[Silence] = []
    silence = probe.silence
    monkeypatch.setattr(probe, "silence", lambda: judged.append(silence()) or judged[-1])
    try:
        with probe:
            assert probe.sign_on().manufacturer == "EMh"
            assert judged == []
            registers.port = PortBehaviour(dead=True)  # now every answer must be waited for
            with pytest.raises(InstrumentTimeoutError):
                probe.sign_on()
            assert judged
    finally:
        server.stop()
