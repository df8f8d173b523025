"""The emulated meters' optical ports: power, faults and sign-on logging, seen on the wire."""

from __future__ import annotations

import time
import tomllib
from collections.abc import Iterator

import pytest

from harness.bench.bench import Slot
from harness.bench.session import BenchSession
from harness.config.loader import default_bench_path, parse_bench
from harness.drivers.optical.base import OpticalProbe
from harness.errors import InstrumentTimeoutError


def session_with_faults(faults: list[str]) -> BenchSession:
    data = tomllib.loads(default_bench_path().read_text())
    data["slots"]["esme"]["emulation"]["faults"] = faults
    data["instruments"]["probe_esme"]["timeout_s"] = 0.3
    data["instruments"]["probe_esme"]["options"]["retries"] = 2
    return BenchSession(parse_bench(data))


@pytest.fixture
def esme(request: pytest.FixtureRequest) -> Iterator[tuple[Slot, OpticalProbe]]:
    session = session_with_faults(getattr(request, "param", []))
    bench = session.open()
    slot = bench.slot("esme")
    slot.power.set_voltage(230.0)
    try:
        yield slot, slot.instrument("optical")  # type: ignore[misc]
    finally:
        session.close()


def power_up(slot: Slot) -> None:
    slot.power.on()
    time.sleep(0.5)  # inrush and boot of the emulated ESME take about 0.3 s


def test_an_unpowered_mains_meter_does_not_answer(esme: tuple[Slot, OpticalProbe]) -> None:
    slot, probe = esme
    with pytest.raises(InstrumentTimeoutError):
        probe.sign_on()
    power_up(slot)
    assert probe.sign_on().manufacturer == "EMh"


@pytest.mark.parametrize("esme", [["optical_port_dead"]], indirect=True)
def test_dead_port_fault_is_silent_on_the_wire(esme: tuple[Slot, OpticalProbe]) -> None:
    slot, probe = esme
    power_up(slot)
    with pytest.raises(InstrumentTimeoutError):
        probe.sign_on()
    assert slot.power.current() > 0.005  # the meter itself is alive


@pytest.mark.parametrize("esme", [["optical_port_intermittent:0.5"]], indirect=True)
def test_intermittent_port_loses_some_frames(esme: tuple[Slot, OpticalProbe]) -> None:
    slot, probe = esme
    power_up(slot)
    outcomes = []
    for _ in range(12):
        try:
            probe.readout()
            outcomes.append(True)
        except Exception:
            outcomes.append(False)
    assert any(outcomes) and not all(outcomes)
