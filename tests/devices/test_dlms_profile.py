"""The ``dlms`` profile against an emulated meter: it reads what the mode C reference profile
reads off the same device (identity, clock, logs, tamper, HAN, anchors, supply, consumer data,
registers), and its resets (COSEM methods, under the gate) are verified by read-back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.config.models import InstrumentConfig
from harness.devices.dlms_profile import DlmsProfile
from harness.devices.profile import load_profile
from harness.devices.reference import ReferenceProfile
from harness.drivers.optical.serial_probe import SerialOpticalProbe
from harness.emulator.optical.device_registers import DeviceRegisters, registers_for_device
from harness.emulator.optical.server import OpticalPortServer
from harness.emulator.world.clock import ManualClock
from harness.emulator.world.models import create_device
from harness.errors import AccessDeniedError
from harness.triage.gate import Gate


def meter(kind: str, seed: int) -> tuple[DeviceRegisters, ManualClock]:
    clock = ManualClock()
    device = create_device(kind.lower(), kind, clock=clock, seed=seed)
    device.supply(230.0)
    clock.advance(5.0)
    device.commission_with_consumer_data(days=2)
    return registers_for_device(device), clock


@pytest.fixture(params=["ESME", "GSME"])
def port(request: pytest.FixtureRequest) -> Iterator[tuple[DeviceRegisters, str]]:
    registers, clock = meter(request.param, seed=21)
    server = OpticalPortServer(registers, clock, transport="socket")
    server.start()
    try:
        yield registers, server.resource
    finally:
        server.stop()


def profiles(registers: DeviceRegisters, address: str, gate: Gate | None
             ) -> Iterator[tuple[ReferenceProfile, DlmsProfile]]:
    gas = registers.device.device_type.name == "GSME"  # a battery meter sleeps: wake it
    config = InstrumentConfig(kind="optical_probe", backend="serial", address=address,
                              timeout_s=0.5,
                              options={"wakeup": True, "wakeup_pause_s": 0.0} if gas else {})
    secrets = {"optical_password": registers.password}
    with SerialOpticalProbe("probe", config) as probe:
        reference = ReferenceProfile(probe, secrets=secrets)
        dlms = DlmsProfile(probe, secrets=secrets)
        reference.gate = dlms.gate = gate
        yield reference, dlms


def test_registered_by_entry_point() -> None:
    assert load_profile("dlms") is DlmsProfile


def test_reads_what_the_mode_c_twin_reads(port: tuple[DeviceRegisters, str]) -> None:
    registers, address = port
    for reference, dlms in profiles(registers, address, None):
        with reference.session():
            by_mode_c = reference.read_diagnostics()
            consumer_c, metrology_c = reference.read_consumer_data(), reference.read_metrology()
        with dlms.session():
            by_dlms = dlms.read_diagnostics()
            consumer_d, metrology_d = dlms.read_consumer_data(), dlms.read_metrology()
        assert by_dlms.identity == by_mode_c.identity
        assert by_dlms.event_log == by_mode_c.event_log
        # the DLMS session's own sign-on is logged (0x81A5) after the mode C read
        assert by_dlms.security_log[:len(by_mode_c.security_log)] == by_mode_c.security_log
        same = ("power_log", "tamper", "supply", "han", "certificates", "battery_v",
                "battery_percent")
        assert {f: getattr(by_dlms, f) for f in same} == {f: getattr(by_mode_c, f) for f in same}
        assert by_dlms.device_time is not None and by_mode_c.device_time is not None
        assert abs((by_dlms.device_time - by_mode_c.device_time).total_seconds()) <= 1
        assert consumer_d == consumer_c and any(consumer_d.values())
        assert metrology_d == metrology_c and metrology_d["import_register"] is not None


def test_resets_by_cosem_methods_are_verified_by_read_back(
        port: tuple[DeviceRegisters, str], gate: Gate) -> None:
    registers, address = port
    device = registers.device
    for reference, dlms in profiles(registers, address, gate):
        with dlms.session():
            before = dlms.read_metrology()
            dlms.clear_consumer_data()
            assert set(dlms.read_consumer_data().values()) == {None}
            assert dlms.read_metrology()["import_register"] == before["import_register"]
            dlms.reset_certificates()
            dlms.reset_han()
            dlms.reset_lifecycle()
            anchors = {c.role: c.spki_fingerprint for c in dlms.read_diagnostics().certificates}
        assert anchors == {r: f for r, f in device.original_anchor_fingerprints().items()
                           if r in anchors}
        assert not device.han_status().joined and device.han_status().awaiting_install_code_join
        assert [e.code for e in device.read_log("event")] == [0x8F52]  # only the reset's own
        by_dlms = dlms.read_consumer_data()
        with reference.session():
            assert reference.read_consumer_data() == by_dlms


def test_supply_cycles_through_class_70_and_the_manufacturer_scripts(
        port: tuple[DeviceRegisters, str], gate: Gate) -> None:
    registers, address = port
    gas = registers.device.device_type.name == "GSME"
    cycle = ("closed", "armed", "open", "closed") if gas else ("disabled", "enabled", "armed",
                                                               "enabled")
    for _reference, dlms in profiles(registers, address, gate):
        with dlms.session():
            for state in cycle:
                if state == "enabled" and dlms.read_supply() == "armed":
                    continue  # an armed ESME closes on the consumer's button only
                assert dlms.set_supply(state) == state
                assert registers.read("96.3.10") == state


def test_resets_need_the_gate(port: tuple[DeviceRegisters, str]) -> None:
    registers, address = port
    for _reference, dlms in profiles(registers, address, None):
        with pytest.raises(AccessDeniedError):
            dlms.clear_consumer_data()
    assert registers.device.consumer_data().mpxn is not None
