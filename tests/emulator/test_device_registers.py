"""The emulated meter's register map: its clock text and its identification, which the port
asks for at every request and so are made cheaply, saying the same as before."""

from __future__ import annotations

import dataclasses
import datetime

import pytest

from harness.emulator.optical.device_registers import _TIME_FMT, _stamp, registers_for_device
from harness.emulator.world.clock import ManualClock
from harness.emulator.world.models import create_device

UTC = datetime.UTC


@pytest.mark.parametrize("when", [
    datetime.datetime(2026, 12, 5, 22, 31, 0, 999_999, tzinfo=UTC),
    datetime.datetime(1999, 1, 2, 3, 4, 5, tzinfo=datetime.timezone(datetime.timedelta(hours=5))),
    datetime.datetime(2030, 2, 28, 23, 59, 59, 500_000,
                      tzinfo=datetime.timezone(datetime.timedelta(hours=-3, minutes=-30))),
    datetime.datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC),
])
def test_the_clock_text_is_the_register_format_in_utc_whole_seconds(
        when: datetime.datetime) -> None:
    assert _stamp(when) == when.astimezone(UTC).strftime(_TIME_FMT)


def test_the_identification_follows_a_replaced_identity() -> None:
    device = create_device("esme", "ESME", clock=ManualClock(), seed=1)
    registers = registers_for_device(device)
    first = registers.identification()
    assert registers.identification() is first  # asked at every request: built once
    device.identity = dataclasses.replace(device.identity, model="ANOTHER-MODEL-0123456")
    again = registers.identification()
    assert again.identification == "ANOTHER-MODEL-01"  # 16 characters at most
    assert again.manufacturer == first.manufacturer
