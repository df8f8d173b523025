"""A battery gas meter's optical port sleeps: the emulated GSME answers a sign-on only after
the probe's NUL wake-up preamble (2.2 s of line time, then a pause), stays awake for its
model's stated window after the last byte it heard, and then sleeps again; a mains ESME
never sleeps.  The probe's wake-up path (harness.drivers.optical.base) against the real
emulated device's port, on a clock twenty times faster than the wall's."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from harness.config.models import InstrumentConfig
from harness.domain.types import DeviceType
from harness.drivers.optical.serial_probe import SerialOpticalProbe
from harness.emulator.optical.device_registers import optical_password, registers_for_device
from harness.emulator.optical.server import OpticalPortServer
from harness.emulator.world.clock import ScaledClock
from harness.emulator.world.models import create_device
from harness.errors import InstrumentTimeoutError

SCALE = 20.0
PAUSE_S = 1.6 / SCALE  # the probe's 1.6 s pause, in wall time on this faster clock


def port_of(kind: DeviceType) -> tuple[OpticalPortServer, object]:
    clock = ScaledClock(SCALE)
    device = create_device("dut", kind, seed=2, clock=clock)
    device.supply(device.nominal_voltage)
    deadline = time.monotonic() + 5
    while not device.ready and time.monotonic() < deadline:
        time.sleep(0.01)
    server = OpticalPortServer(registers_for_device(device), clock, transport="socket")
    server.start()
    return server, device


@pytest.fixture
def gsme() -> Iterator[OpticalPortServer]:
    server, _ = port_of(DeviceType.GSME)
    yield server
    server.stop()


def probe(server: OpticalPortServer, sleeps: list[float] | None = None, **options: object
          ) -> SerialOpticalProbe:
    config = InstrumentConfig(kind="optical_probe", backend="serial", address=server.resource,
                              timeout_s=0.3, options={"retries": 1, **options})

    def sleep(seconds: float) -> None:
        if sleeps is not None:
            sleeps.append(seconds)
        time.sleep(seconds)

    return SerialOpticalProbe("probe", config, sleep=sleep)


def window_s(server: OpticalPortServer) -> float:
    window = server.registers.behaviour().wake_window_s
    assert window is not None, "the GSME model states an awake window"
    return window


def test_asleep_it_ignores_a_sign_on_without_the_wake_up(gsme: OpticalPortServer) -> None:
    with probe(gsme) as p, pytest.raises(InstrumentTimeoutError):
        p.sign_on()
    assert gsme.engine.wakeups == 0 and not gsme.engine.awake


def test_the_probe_wake_up_wakes_it(gsme: OpticalPortServer) -> None:
    """66 NUL bytes (2.2 s at 300 Bd), the pause, then the request: the GSME answers."""
    sleeps: list[float] = []
    with probe(gsme, sleeps, wakeup=True, wakeup_pause_s=PAUSE_S) as p:
        assert p.sign_on().manufacturer == "EMg"
        sent = b"".join(e.data for e in p.transcript.entries if e.direction == ">")
    assert sent.startswith(b"\x00" * 66) and sent[66:71] == b"/?!\r\n"
    assert sleeps == [PAUSE_S]
    assert gsme.engine.wakeups == 1 and gsme.engine.awake


def test_a_short_preamble_does_not_wake_it(gsme: OpticalPortServer) -> None:
    """1.5 s of NULs is under the model's minimum (2.0 s): still asleep, no answer."""
    with probe(gsme, wakeup=True, wakeup_s=1.5, wakeup_pause_s=PAUSE_S) as p, \
            pytest.raises(InstrumentTimeoutError):
        p.sign_on()
    assert gsme.engine.wakeups == 0


def test_it_stays_awake_for_its_window_then_sleeps(gsme: OpticalPortServer) -> None:
    """Woken, it answers without a new wake-up while traffic keeps coming within the window;
    silent for longer than the window, it sleeps and ignores a plain sign-on again."""
    window = window_s(gsme)
    with probe(gsme, wakeup=True, wakeup_pause_s=PAUSE_S) as p:
        p.sign_on()
    with probe(gsme) as p:
        time.sleep(window / SCALE / 2)
        assert p.sign_on().manufacturer == "EMg"  # within the window: still awake
        time.sleep(window / SCALE / 2)
        assert p.sign_on().manufacturer == "EMg"  # the last exchange renewed the window
        time.sleep(window / SCALE * 1.2)
        assert not gsme.engine.awake
        with pytest.raises(InstrumentTimeoutError):
            p.sign_on()
    assert gsme.engine.wakeups == 1


def test_a_mains_esme_never_sleeps() -> None:
    server, _ = port_of(DeviceType.ESME)
    try:
        assert server.registers.behaviour().wake_window_s is None
        with probe(server) as p:
            assert p.sign_on().manufacturer == "EMh"
    finally:
        server.stop()


def test_an_open_session_keeps_it_awake_past_the_window(gsme: OpticalPortServer) -> None:
    """A programming session holds the port awake (a clock-rate measurement keeps one open
    for up to a minute) until the session's own timeout; the window counts again after."""
    window = window_s(gsme)
    password = optical_password(gsme.registers.device)  # type: ignore[attr-defined]
    with probe(gsme, wakeup=True, wakeup_pause_s=PAUSE_S) as p, p.programming(password) as s:
        time.sleep(window / SCALE * 1.5)
        assert gsme.engine.awake
        assert s.read("0.0.0")  # the EUI-64, read past the window in the open session


def test_the_probe_skips_the_wake_up_while_the_window_surely_holds(gsme: OpticalPortServer
                                                                   ) -> None:
    """``wakeup_holds_s``: a sign-on soon after the last one sends no preamble and is
    answered; once that time has passed the probe wakes the meter again."""
    holds = window_s(gsme) / SCALE * 0.75
    with probe(gsme, wakeup=True, wakeup_pause_s=PAUSE_S, wakeup_holds_s=holds) as p:
        p.sign_on()
        mark = len(p.transcript.entries)
        p.sign_on()
        sent = b"".join(e.data for e in p.transcript.entries[mark:] if e.direction == ">")
        assert not sent.startswith(b"\x00")
        time.sleep(holds * 1.1)
        mark = len(p.transcript.entries)
        p.sign_on()
        sent = b"".join(e.data for e in p.transcript.entries[mark:] if e.direction == ">")
        assert sent.startswith(b"\x00" * 66)
    assert gsme.engine.wakeups == 1  # the second preamble reached a meter still awake


def test_a_retry_wakes_a_meter_the_probe_thought_awake(gsme: OpticalPortServer) -> None:
    """A ``wakeup_holds_s`` longer than the meter's window: the first attempt goes unheard,
    the retry sends the preamble and is answered; that miss is not an optical link error
    (TRI-OPT counts those), while a real unanswered attempt still is."""
    with probe(gsme, wakeup=True, wakeup_pause_s=PAUSE_S, wakeup_holds_s=60.0,
               retries=2, retry_wait_s=0.0) as p:
        p.sign_on()
        time.sleep(window_s(gsme) / SCALE * 1.2)
        assert p.sign_on().manufacturer == "EMg"
        assert p.link_errors == 0  # the probe's own guess, not the optical link, was wrong
        p.config.options["wakeup_holds_s"] = 0.0  # now a real timeout counts as ever
        with pytest.raises(InstrumentTimeoutError):
            p.sign_on("99999999")  # an address no meter answers to
        assert p.link_errors == 1
    assert gsme.engine.wakeups == 2


def test_an_open_hdlc_session_keeps_it_awake_past_the_window(gsme: OpticalPortServer) -> None:
    """The DLMS twin's way in: woken, signed on, switched to mode E; the HDLC association
    then holds the port awake past the window (as a programming session does) until its own
    inactivity timeout, and the release still reaches the meter."""
    window = window_s(gsme)
    password = optical_password(gsme.registers.device)  # type: ignore[attr-defined]
    with probe(gsme, wakeup=True, wakeup_pause_s=PAUSE_S) as p, p.dlms(
            client=0x01, password=password) as session:
        assert session.get(1, "0.0.96.1.0.255", 2).value
        time.sleep(window / SCALE * 1.5)
        assert gsme.engine.awake and gsme.engine.state.value == "hdlc"
        assert session.get(1, "0.0.96.1.0.255", 2).value  # read past the window, same session
    assert gsme.engine.state.value == "idle"  # released and disconnected, not timed out
    assert gsme.engine.wakeups == 1
