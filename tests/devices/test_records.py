"""The device records: a clock the route did not observe stays absent, never the read time."""

from __future__ import annotations

import datetime

from harness.devices.records import DeviceIdentity, Diagnostics
from harness.domain.types import DeviceType

IDENTITY = DeviceIdentity(DeviceType.ESME, "00DB120000000001", "S1", "Acme", "E1", "1.0")
READ_AT = datetime.datetime(2026, 12, 5, 4, 0, tzinfo=datetime.UTC)


def test_the_drift_is_the_device_clock_minus_the_bench_clock() -> None:
    late = Diagnostics(IDENTITY, READ_AT + datetime.timedelta(seconds=90), READ_AT)
    assert late.clock_drift_s == 90.0


def test_an_unobserved_clock_has_no_drift_rather_than_a_zero_one() -> None:
    unobserved = Diagnostics(IDENTITY, None, READ_AT)
    assert unobserved.device_time is None and unobserved.clock_drift_s is None
