"""The fault catalogue, and each fault's symptoms as the device's behaviour shows them."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from harness.domain.types import DeviceType
from harness.emulator.world.clock import ManualClock
from harness.emulator.world.device import EmulatedDevice
from harness.emulator.world.faults import CATALOGUE, ChFaultReason, FaultCategory, FaultSet
from harness.emulator.world.logs import LogKind
from harness.emulator.world.models import CommsHub, Esme, Gsme, create_device
from harness.errors import BenchConfigError, OperationError
from harness.protocols.gbcs_alerts import GbcsAlert as A

E, G, C = DeviceType.ESME, DeviceType.GSME, DeviceType.CHF
SEED = 5


def running(kind: DeviceType, *faults: str, seed: int = SEED) -> tuple[EmulatedDevice,
                                                                      ManualClock]:
    clock = ManualClock()
    device = create_device("dut", kind, seed=seed, clock=clock, faults=faults)
    device.supply(device.nominal_voltage)
    clock.advance(device.profile.settle_s + 0.001)
    return device, clock


def idle_and_burst(kind: DeviceType, *faults: str) -> tuple[float, float]:
    """Current just before and during the first HAN burst after boot."""
    device, clock = running(kind, *faults)
    every = device.profile.burst_every_s
    clock.advance(every - clock.now() - 0.01)
    idle = device.current()
    clock.advance(0.02)
    return idle, device.current()


# One check per catalogue entry: it must be observable through behaviour, never a flag.

def check_no_fault(kind: DeviceType) -> None:
    device, _ = running(kind, "no_fault")
    assert device.log_codes() == [] and device.optical_port_behaviour().answers
    assert device.tamper_flags() == frozenset() and device.identity.eui64 == device.label.eui64


def check_han_radio_dead(kind: DeviceType) -> None:
    idle, burst = idle_and_burst(kind)
    dead_idle, dead_burst = idle_and_burst(kind, "han_radio_dead")
    assert burst > idle * 1.5 and dead_burst < dead_idle * 1.2


def wan_burst_current(*faults: str) -> float:
    """A hub's current during its first WAN burst (8.5..9 s after power on)."""
    hub, clock = running(C, *faults)
    clock.advance(8.7 - clock.now())
    return hub.current()


def check_wan(fault: str, modem: str) -> Callable[[DeviceType], None]:
    def check(kind: DeviceType) -> None:
        hub, _ = running(kind, fault)
        assert isinstance(hub, CommsHub)
        status = hub.wan_status()
        assert status.modem == modem and not status.connected
        assert wan_burst_current(fault) < wan_burst_current() * 0.8
    return check


def check_weak_signal(kind: DeviceType) -> None:
    hub, _ = running(kind, "weak_wan_signal")
    healthy, _ = running(kind)
    assert isinstance(hub, CommsHub) and isinstance(healthy, CommsHub)
    weak = hub.wan_status()
    assert weak.modem == "registered" and weak.rssi_dbm is not None and weak.rssi_dbm < -100
    assert not weak.connected and healthy.wan_status().connected


def check_optical_dead(kind: DeviceType) -> None:
    device, _ = running(kind, "optical_port_dead")
    assert not device.optical_port_behaviour().answers


def check_optical_intermittent(kind: DeviceType) -> None:
    device, _ = running(kind, "optical_port_intermittent:0.3")
    port = device.optical_port_behaviour()
    assert port.answers and port.drop_fraction + port.corrupt_fraction == pytest.approx(0.3)


def check_firmware(kind: DeviceType) -> None:
    device, clock = running(kind, "firmware_verification_fails")
    assert device.log_codes(LogKind.SECURITY) == [A.FIRMWARE_VERIFICATION_FAILED_AT_POWER_ON]
    with pytest.raises(OperationError, match="boot loader"):
        device.commission_with_consumer_data()
    with pytest.raises(OperationError, match="boot loader"):
        device.triage_reset()
    clock.advance(device.model.commit_s)  # the entry reaches non-volatile memory
    device.supply(0)
    device.supply(device.nominal_voltage)
    clock.advance(1.0)
    assert device.log_codes(LogKind.SECURITY).count(A.FIRMWARE_VERIFICATION_FAILED_AT_POWER_ON) == 2


def check_memory(kind: DeviceType) -> None:
    device, clock = running(kind, "memory_error")
    assert A.ERROR_NON_VOLATILE_MEMORY in device.log_codes(LogKind.EVENT)
    device.commission_with_consumer_data()
    clock.advance(device.model.commit_s * 3)
    device.supply(0)
    device.supply(device.nominal_voltage)
    clock.advance(1.0)
    assert not device.consumer_data().available


def check_watchdog(kind: DeviceType) -> None:
    device, clock = running(kind, "watchdog_resets:100")
    # Three resets struck before the bench (its shelf life), one more on the bench.
    assert device.log_codes(LogKind.EVENT) == [A.WATCHDOG_RESET] * 3
    clock.advance(100.0)
    assert device.current() > device.profile.idle_a * 5  # inrush again
    clock.advance(1.0)
    assert device.boots == 2 and device.power_events[-1].kind == "watchdog"
    assert device.log_codes(LogKind.EVENT) == [A.WATCHDOG_RESET] * 4
    clock.advance(100.0)
    assert device.boots == 3


def check_measurement(kind: DeviceType) -> None:
    device, _ = running(kind, "measurement_fault:0.6")
    assert A.MEASUREMENT_FAULT in device.log_codes(LogKind.EVENT)
    if isinstance(device, Esme):
        assert device.measured_voltage() == pytest.approx(230 * 0.6, rel=0.02)
        healthy, _ = running(kind)
        assert isinstance(healthy, Esme)
        assert healthy.measured_voltage() == pytest.approx(230, rel=0.02)


def check_registers_erased(kind: DeviceType) -> None:
    """The reset leaves a sound meter's cumulative registers and erases this one's."""
    for faults, kept in (((), True), (("reset_erases_registers",), False)):
        meter, _ = running(kind, *faults)
        meter.commission_with_consumer_data()
        assert meter.consumer_data().import_register is not None
        meter.clear_consumer_data()
        assert (meter.consumer_data().import_register is not None) is kept
        assert not meter.consumer_data().half_hourly  # consumer data goes either way


def check_switch_stuck(kind: DeviceType) -> None:
    esme, _ = running(kind, "load_switch_stuck")
    assert isinstance(esme, Esme)
    assert esme.disable_supply() == "enabled" and esme.supply_state() == "enabled"
    assert esme.current() > esme.model.actuator_a  # the coil was driven


def check_valve_stuck(kind: DeviceType) -> None:
    gsme, _ = running(kind, "valve_stuck")
    assert isinstance(gsme, Gsme)
    gsme.arm_valve()
    assert gsme.press_button() == "armed" and gsme.current() > gsme.model.actuator_a * 0.8


def check_standby(kind: DeviceType) -> None:
    idle, _ = idle_and_burst(kind)
    leaky, _ = idle_and_burst(kind, "excessive_standby_current")
    assert leaky > idle * 10


def check_cover(kind: DeviceType) -> None:
    device, _ = running(kind, "tamper_cover_removed")
    code = (A.UNAUTHORISED_PHYSICAL_ACCESS_TAMPER if kind is C
            else A.UNAUTHORISED_PHYSICAL_ACCESS_METER_COVER)
    assert device.log_codes(LogKind.SECURITY) == [code]
    assert device.tamper_flags() == {"cover"}


def check_magnet(kind: DeviceType) -> None:
    device, _ = running(kind, "magnetic_tamper")
    assert device.log_codes(LogKind.SECURITY) == [A.UNAUTHORISED_PHYSICAL_ACCESS_MAGNETIC_FIELD]
    assert device.tamper_flags() == {"magnetic"}


def check_drift(kind: DeviceType) -> None:
    device, clock = running(kind, "clock_drift:-1000")
    start = device.clock_time()
    clock.advance(3600)
    assert (device.clock_time() - start).total_seconds() == pytest.approx(3600 - 3.6)


def check_label(kind: DeviceType) -> None:
    device, _ = running(kind, "label_mismatch")
    assert device.identity.eui64 != device.label.eui64
    assert device.identity.serial != device.label.serial
    assert device.identity.eui64[:6] == device.label.eui64[:6]  # same manufacturer block


def check_battery(kind: DeviceType) -> None:
    gsme, _ = running(kind, "battery_low:0.02")
    assert isinstance(gsme, Gsme)
    assert A.GSME_LOW_BATTERY in gsme.log_codes(LogKind.POWER)
    assert gsme.battery().low and gsme.battery().remaining_fraction == pytest.approx(0.02)
    gsme.arm_valve()
    with pytest.raises(OperationError, match="battery low"):
        gsme.press_button()


def check_join_fault(kind: DeviceType) -> None:
    """HAN join faults: see test_han_join.py; here only that the device still runs."""
    device, _ = running(kind, "han_join_fails")
    assert device.han_status().awaiting_install_code_join


def check_tamper_in_service(kind: DeviceType) -> None:
    device, _ = running(kind, "tamper_in_service:30")
    code = (A.UNAUTHORISED_PHYSICAL_ACCESS_TAMPER if kind is C
            else A.UNAUTHORISED_PHYSICAL_ACCESS_TERMINAL_COVER)
    (entry,) = [e for e in device.read_log(LogKind.SECURITY) if e.code == code]
    days = (device.true_time.now() - entry.timestamp).total_seconds() / 86400
    assert 30 < days < 32  # 30 days before a removal a day before the bench
    assert device.tamper_flags() == frozenset()  # the cover is closed again


def check_unexpected_resets(kind: DeviceType) -> None:
    device, _ = running(kind, "unexpected_resets:5")
    stamps = [e.timestamp for e in device.read_log(LogKind.EVENT)
              if e.code == A.UNEXPECTED_HARDWARE_RESET]
    assert len(stamps) == 15 and stamps == sorted(stamps)
    assert (stamps[-1] - stamps[0]).total_seconds() < 3 * 86400


def check_auth_failures(kind: DeviceType) -> None:
    device, _ = running(kind, "auth_failures_in_service:4")
    codes = device.log_codes(LogKind.SECURITY)
    assert codes.count(A.TRUSTED_SOURCE_AUTHENTICATION_FAILURE) == 4
    assert A.UPDATE_SECURITY_CREDENTIALS not in codes  # no supplier change explains them


def check_seen(key: str, word: str) -> Callable[[DeviceType], None]:
    """Physical damage: the person at the bench sees it (and only that: the hub reports and
    draws as a sound one does)."""
    def check(kind: DeviceType) -> None:
        device, _ = running(kind, key)
        sound, _ = running(kind)
        assert device.seen_by_eye == (word,) and sound.seen_by_eye == ()
        assert device.log_codes() == sound.log_codes()
        assert device.current() == pytest.approx(sound.current())
    return check


SYMPTOMS: dict[str, Callable[[DeviceType], None]] = {
    "no_fault": check_no_fault,
    "han_radio_dead": check_han_radio_dead,
    "han_join_fails": check_join_fault,
    "wrong_install_code_label": check_join_fault,
    "wan_modem_fault": check_wan("wan_modem_fault", "fault"),
    "no_sim": check_wan("no_sim", "no SIM"),
    "weak_wan_signal": check_weak_signal,
    "optical_port_dead": check_optical_dead,
    "optical_port_intermittent": check_optical_intermittent,
    "firmware_verification_fails": check_firmware,
    "memory_error": check_memory,
    "watchdog_resets": check_watchdog,
    "measurement_fault": check_measurement,
    "reset_erases_registers": check_registers_erased,
    "load_switch_stuck": check_switch_stuck,
    "valve_stuck": check_valve_stuck,
    "excessive_standby_current": check_standby,
    "tamper_cover_removed": check_cover,
    "magnetic_tamper": check_magnet,
    "clock_drift": check_drift,
    "label_mismatch": check_label,
    "battery_low": check_battery,
    "tamper_in_service": check_tamper_in_service,
    "unexpected_resets": check_unexpected_resets,
    "auth_failures_in_service": check_auth_failures,
    "damaged_case": check_seen("damaged_case", "case"),
    "damaged_connector": check_seen("damaged_connector", "connector"),
    "seals_broken": check_seen("seals_broken", "seals"),
    "led_dead": check_seen("led_dead", "leds"),
    "water_damage": check_seen("water_damage", "environment"),
}

CASES = [(key, kind) for key, kind_ in CATALOGUE.items()
         for kind in sorted(kind_.applies_to)]


def test_every_catalogue_fault_has_a_symptom_check() -> None:
    assert set(SYMPTOMS) == set(CATALOGUE)


@pytest.mark.parametrize(("key", "kind"), CASES, ids=[f"{k}-{t.name}" for k, t in CASES])
def test_fault_symptoms_are_observable(key: str, kind: DeviceType) -> None:
    SYMPTOMS[key](kind)


def test_catalogue_entries_are_complete() -> None:
    vocabulary = {r.value for r in ChFaultReason}
    for kind in CATALOGUE.values():
        assert kind.name and kind.description and kind.symptoms
        assert isinstance(kind.category, FaultCategory)
        assert kind.ch_return_reason is None or kind.ch_return_reason.value in vocabulary
        assert (kind.category is FaultCategory.NONE) == (kind.key == "no_fault")
    assert CATALOGUE["wan_modem_fault"].ch_return_reason is ChFaultReason.SM_WAN
    assert CATALOGUE["han_radio_dead"].ch_return_reason is ChFaultReason.SM_HAN


def test_faults_are_parsed_checked_and_drawn_from_the_seed() -> None:
    one = FaultSet.parse(["clock_drift", "watchdog_resets"], E, seed=1)
    again = FaultSet.parse(["clock_drift", "watchdog_resets"], E, seed=1)
    other = FaultSet.parse(["clock_drift"], E, seed=2)
    assert one.specs() == again.specs() and one.value("clock_drift") != other.value("clock_drift")
    assert 2000 <= one.value("clock_drift") <= 8000 and len(one) == 2
    assert FaultSet.parse(["clock_drift:250"], E).value("clock_drift") == 250
    assert len(FaultSet.parse(["no_fault"], E)) == 0
    with pytest.raises(BenchConfigError, match="unknown fault 'nope'"):
        FaultSet.parse(["nope"], E)
    with pytest.raises(BenchConfigError, match="does not apply to a ESME"):
        FaultSet.parse(["no_sim"], E)
    with pytest.raises(BenchConfigError, match="takes no number"):
        FaultSet.parse(["no_sim:3"], C)
    with pytest.raises(BenchConfigError, match="not a number"):
        FaultSet.parse(["clock_drift:fast"], E)


def test_faults_combine() -> None:
    device, _ = running(E, "memory_error", "tamper_cover_removed", "optical_port_dead")
    assert A.ERROR_NON_VOLATILE_MEMORY in device.log_codes()
    assert A.UNAUTHORISED_PHYSICAL_ACCESS_METER_COVER in device.log_codes()
    assert not device.optical_port_behaviour().answers


def test_same_seed_same_faulty_device_behaviour() -> None:
    def trace(seed: int) -> list[object]:
        device, clock = running(C, "weak_wan_signal", "watchdog_resets", seed=seed)
        assert isinstance(device, CommsHub)
        out: list[object] = []
        for _ in range(5):
            clock.advance(61.0)
            out += [device.current(), device.wan_status(), device.boots]
        return [*out, device.read_log("event")]

    assert trace(8) == trace(8) != trace(9)
