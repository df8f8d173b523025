"""The emulated bench presents a batch's devices in turn, as an operator loads each one."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from harness.bench.session import BenchSession
from harness.devices.reference import ReferenceProfile
from harness.domain.types import DeviceType
from harness.emulator.world.models import create_device
from harness.emulator.world.population import device_from_row, generate
from harness.errors import BenchConfigError


@pytest.fixture
def session() -> Iterator[BenchSession]:
    bench_session = BenchSession.from_file(None)
    bench_session.open()
    yield bench_session
    bench_session.close()


def test_each_batch_meter_is_reached_through_the_slot(session: BenchSession) -> None:
    assert session.bench is not None and session.emulator is not None
    rows = [r for r in generate(40, seed=3) if r.device_type is DeviceType.ESME
            and r.truth_faults == ("no_fault",)][:2]
    slot = session.bench.slot("esme")
    seen = []
    for row in rows:
        slot.power.off()
        session.emulator.present("esme", device_from_row(row, session.emulator.clock,
                                                         slot="esme"))
        slot.power.set_voltage(230.0)
        slot.power.on()
        time.sleep(0.5)
        profile = slot.profile()
        assert isinstance(profile, ReferenceProfile)
        seen.append(profile.identify().device_id)
    assert seen == [r.device_id for r in rows]


def test_the_supply_feeds_the_new_device_and_not_the_old(session: BenchSession) -> None:
    assert session.bench is not None and session.emulator is not None
    old = session.emulator.devices["esme"]
    slot = session.bench.slot("esme")
    slot.power.set_voltage(230.0)
    slot.power.on()
    time.sleep(0.4)
    new = create_device("esme", DeviceType.ESME, "EMU-ESME-2", seed=99,
                        clock=session.emulator.clock)
    session.emulator.present("esme", new)
    time.sleep(0.4)
    assert new.ready and not old.powered


def test_a_device_of_the_wrong_type_is_refused(session: BenchSession) -> None:
    assert session.emulator is not None
    gas = create_device("x", DeviceType.GSME, "EMU-GSME-1", seed=1)
    with pytest.raises(BenchConfigError, match="cannot go in slot 'esme'"):
        session.emulator.present("esme", gas)
