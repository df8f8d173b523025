"""A device state's commit copy: what is frozen (consumer data, log entries, status changes)
is shared, not copied, and what a device changes in place (its logs, its HAN side) still is
copied, so a power cut before the commit still loses the change."""

from __future__ import annotations

from harness.domain.types import DeviceType
from harness.emulator.world.clock import ManualClock
from harness.emulator.world.models import create_device
from harness.protocols.gbcs_alerts import GbcsAlert


def test_commit_copy_shares_the_frozen_parts_and_copies_the_rest() -> None:
    clock = ManualClock()
    device = create_device("dut", DeviceType.ESME, seed=5, clock=clock)
    device.supply(device.nominal_voltage)
    clock.advance(device.profile.settle_s + 0.001)
    device.commission_with_consumer_data()
    state = device._ram
    state.logs.record(GbcsAlert.WATCHDOG_RESET, device.rtc.now())
    copied = state.copy()
    assert copied.consumer is state.consumer and copied.consumer.half_hourly
    entries = [e for log in state.logs.entries.values() for e in log]
    assert entries and all(a is b for a, b in zip(
        entries, [e for log in copied.logs.entries.values() for e in log], strict=True))
    assert copied.status_history[0] is state.status_history[0]
    assert copied.logs is not state.logs and copied.han is not state.han
    state.logs.record(GbcsAlert.WATCHDOG_RESET, device.rtc.now())
    assert sum(map(len, copied.logs.entries.values())) == len(entries)
