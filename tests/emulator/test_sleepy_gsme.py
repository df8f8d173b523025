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
from harness.emulator.optical.device_registers import registers_for_device
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
