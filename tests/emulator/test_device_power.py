"""Power behaviour: commits and power cuts, outage logging, the current over time, the clock."""

from __future__ import annotations

import datetime

import pytest

from harness.domain.types import DeviceType, SmiStatus
from harness.emulator.world.clock import ManualClock
from harness.emulator.world.device import EmulatedDevice
from harness.emulator.world.logs import LogKind
from harness.emulator.world.models import Esme, Gsme, create_device
from harness.emulator.world.power_model import Burst, PowerProfile, Pulse
from harness.errors import OperationError
from harness.protocols.gbcs_alerts import GbcsAlert as A


def booted(kind: DeviceType, clock: ManualClock, seed: int = 21, **kw: object) -> EmulatedDevice:
    """A device of ``kind``'s default model, powered and booted."""
    device = create_device("dut", kind, seed=seed, clock=clock, **kw)  # type: ignore[arg-type]
    device.supply(device.nominal_voltage)
    clock.advance(device.profile.settle_s + 0.001)
    assert device.ready
    return device


@pytest.mark.parametrize("kind", [DeviceType.ESME, DeviceType.GSME, DeviceType.CHF])
def test_power_cut_before_commit_loses_the_operation(kind: DeviceType) -> None:
    clock = ManualClock()
    device = booted(kind, clock)
    device.commission_with_consumer_data()
    assert device.consumer_data().available and not device.committed
    clock.advance(device.model.commit_s * 0.5)
    device.supply(0.0)  # mid-operation: the RAM copy is lost
    clock.advance(0.5)
    device.supply(device.nominal_voltage)
    clock.advance(device.profile.settle_s + 0.001)
    assert not device.consumer_data().available
    assert device.status is SmiStatus.PENDING
    assert device.anchor_fingerprints() == device.original_anchor_fingerprints()
    assert A.DEVICE_COMMISSIONED not in device.log_codes()
    assert device.log_codes(LogKind.POWER) == [device.model.supply_loss_code]
    assert device.boots == 2 and [e.kind for e in device.power_events] == ["on", "off", "on"]


def test_power_cut_after_commit_keeps_it() -> None:
    clock = ManualClock()
    device = booted(DeviceType.ESME, clock)
    device.commission_with_consumer_data()
    clock.advance(device.model.commit_s)
    device.supply(0.0)
    device.supply(230.0)
    clock.advance(1.0)
    assert device.consumer_data().available and device.status is SmiStatus.COMMISSIONED


def test_an_interrupted_reset_leaves_the_device_as_before() -> None:
    clock = ManualClock()
    device = booted(DeviceType.ESME, clock)
    device.commission_with_consumer_data()
    clock.advance(device.model.commit_s)
    device.triage_reset()
    device.supply(0.0)
    device.supply(230.0)
    clock.advance(1.0)
    assert device.consumer_data().available and device.han_status().awaiting_install_code_join
    assert A.EVENT_LOG_CLEARED not in device.log_codes()


@pytest.mark.parametrize(("off_s", "restored"), [(179.0, False), (180.0, True), (3600.0, True)])
def test_supply_outage_restored_is_logged_from_three_minutes(off_s: float, restored: bool) -> None:
    clock = ManualClock()
    device = booted(DeviceType.ESME, clock)
    device.supply(0.0)
    clock.advance(off_s)
    device.supply(230.0)
    assert A.SUPPLY_OUTAGE_RESTORED not in device.log_codes()  # logged once booted
    clock.advance(1.0)
    expected = [A.SUPPLY_INTERRUPTED] + ([A.SUPPLY_OUTAGE_RESTORED] if restored else [])
    assert device.log_codes(LogKind.POWER) == expected
    loss, *rest = device.read_log(LogKind.POWER)
    if rest:
        gap = (rest[0].timestamp - loss.timestamp).total_seconds()
        assert gap == pytest.approx(off_s + device.profile.settle_s, abs=0.1)


def test_gas_meter_logs_its_own_supply_loss_code() -> None:
    clock = ManualClock()
    gsme = booted(DeviceType.GSME, clock)
    gsme.supply(0.0)
    assert gsme.log_codes(LogKind.POWER) == [A.GSME_POWER_SUPPLY_LOSS]


def test_brownout_below_the_profile_threshold_is_a_power_loss() -> None:
    clock = ManualClock()
    device = booted(DeviceType.ESME, clock)
    device.supply(0.7 * 230.0)
    assert not device.powered and device.current() == 0.0


def test_current_has_inrush_boot_idle_and_han_bursts() -> None:
    clock = ManualClock()
    device = create_device("dut", DeviceType.ESME, seed=1, clock=clock)
    device.supply(230.0)
    inrush = device.current()
    clock.advance(0.1)
    boot = device.current()
    clock.advance(5.0 - 0.1 - 0.001)  # idle, just before a HAN burst
    idle = device.current()
    clock.advance(0.01)
    burst = device.current()
    assert inrush > 0.3 > boot > burst > idle > 0.005
    assert burst - idle == pytest.approx(device.profile.burst_a, rel=0.3)


def test_load_switch_draws_coil_current_when_its_contacts_move() -> None:
    clock = ManualClock()
    esme = booted(DeviceType.ESME, clock)
    assert isinstance(esme, Esme)
    clock.advance(0.5)
    idle = esme.current()
    assert esme.disable_supply() == "disabled"
    pulse = esme.current()
    assert pulse - idle == pytest.approx(esme.model.actuator_a, rel=0.15)
    clock.advance(esme.model.actuator_s)
    assert esme.current() < idle * 1.5
    assert esme.arm_supply() == "armed"  # contacts stay open: no coil current
    assert esme.current() < idle * 1.5
    assert esme.press_button() == "enabled"
    assert esme.current() > esme.model.actuator_a


def test_valve_motor_draws_current_and_uses_battery() -> None:
    clock = ManualClock()
    gsme = booted(DeviceType.GSME, clock)
    assert isinstance(gsme, Gsme)
    before = gsme.battery()
    assert gsme.valve_state() == "closed" and gsme.arm_valve() == "armed"
    assert gsme.current() < 0.01  # arming moves nothing
    assert gsme.press_button() == "open"
    assert gsme.current() > gsme.model.actuator_a * 0.8
    clock.advance(gsme.model.actuator_s)
    assert gsme.current() < 0.01
    assert gsme.battery().remaining_mah == pytest.approx(before.remaining_mah
                                                         - gsme.model.valve_mah, abs=0.1)
    assert gsme.battery().voltage == pytest.approx(3.6) and not gsme.battery().low


def test_low_supply_on_a_gas_meter_reads_as_low_battery() -> None:
    clock = ManualClock()
    gsme = create_device("g", DeviceType.GSME, clock=clock)
    gsme.supply(3.1)  # above the brown-out threshold, below the model's low-battery voltage
    clock.advance(1.0)
    assert A.GSME_LOW_BATTERY in gsme.log_codes(LogKind.POWER)
    assert isinstance(gsme, Gsme) and gsme.arm_valve() == "armed"  # arming moves nothing
    with pytest.raises(OperationError, match="battery low"):
        gsme.press_button()


def test_profile_bursts_and_pulses_are_pure_functions() -> None:
    profile = PowerProfile(1.0, 0.01, 0.5, 0.1, 0.01, 0.0, 0.0, 0.0, noise=0.0,
                           bursts=(Burst("wan", 0.1, 10.0, 1.0),))
    assert profile.current(0.5, 1, 0) == pytest.approx(0.11)
    assert profile.current(0.5, 1, 0, silent={"wan"}) == pytest.approx(0.01)
    assert profile.current(5.0, 1, 0, idle_factor=3.0, extra_a=0.2) == pytest.approx(0.23)
    assert Pulse(1.0, 2.0, 0.3).at(2.9) == 0.3 and Pulse(1.0, 2.0, 0.3).at(3.0) == 0.0


def test_the_device_clock_runs_on_emulator_time_at_its_drift() -> None:
    clock = ManualClock()
    epoch = datetime.datetime(2025, 6, 1, tzinfo=datetime.UTC)
    device = booted(DeviceType.ESME, clock, rtc_epoch=epoch)
    start = device.clock_time()
    clock.advance(3600.0)
    drift = device.model.rtc_drift_ppm
    assert (device.clock_time() - start).total_seconds() == pytest.approx(
        3600.0 * (1 + drift / 1e6))
    reference = device.clock_time() + datetime.timedelta(seconds=5)
    assert device.adjust_clock(reference)
    assert device.clock_time() == reference
    assert not device.adjust_clock(reference + datetime.timedelta(minutes=5))
    assert device.log_codes()[-2:] == [A.CLOCK_ADJUSTED_WITHIN_TOLERANCE,
                                       A.CLOCK_NOT_ADJUSTED_OUTSIDE_TOLERANCE]
    device.set_clock(epoch)
    assert device.clock_time() == epoch
