"""The ``dlms`` profile against an emulated meter: it reads what the mode C reference profile
reads off the same device (identity, clock, logs, tamper, HAN, anchors, supply, consumer data,
registers), with LLS or HLS-GMAC (when the slot's secrets carry the keys); the trust anchors
come from the Security setup object (class 64); its resets (COSEM methods, under the gate)
are verified by read-back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.config.catalogue import load_catalogue
from harness.config.models import InstrumentConfig
from harness.devices.dlms_profile import DlmsProfile
from harness.devices.profile import load_profile
from harness.devices.reference import ReferenceProfile
from harness.domain.types import RemotePartyRole
from harness.drivers.optical.serial_probe import SerialOpticalProbe
from harness.emulator.optical.device_registers import DeviceRegisters, registers_for_device
from harness.emulator.optical.server import OpticalPortServer
from harness.emulator.world.clock import ManualClock
from harness.emulator.world.models import create_device
from harness.errors import AccessDeniedError, BenchConfigError
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


def profiles(registers: DeviceRegisters, address: str, gate: Gate | None, *, hls: bool = False,
             ciphered: bool = False) -> Iterator[tuple[ReferenceProfile, DlmsProfile]]:
    gas = registers.device.device_type.name == "GSME"  # a battery meter sleeps: wake it
    config = InstrumentConfig(kind="optical_probe", backend="serial", address=address,
                              timeout_s=0.5,
                              options={"wakeup": True, "wakeup_pause_s": 0.0} if gas else {})
    secrets = {"optical_password": registers.password}
    keys = registers.dlms_keys
    with SerialOpticalProbe("probe", config) as probe:
        reference = ReferenceProfile(probe, secrets=secrets)
        dlms = DlmsProfile(probe, secrets={
            **secrets, "dlms_encryption_key": keys.encryption_key.hex(),
            "dlms_authentication_key": keys.authentication_key.hex()} if hls else secrets,
            options={"ciphered": ciphered})
        reference.gate = dlms.gate = gate
        yield reference, dlms


def test_registered_by_entry_point() -> None:
    assert load_profile("dlms") is DlmsProfile


@pytest.mark.parametrize("security", ["lls", "hls", "hls-ciphered"])
def test_reads_what_the_mode_c_twin_reads(port: tuple[DeviceRegisters, str],
                                          security: str) -> None:
    registers, address = port
    for reference, dlms in profiles(registers, address, None, hls=security.startswith("hls"),
                                    ciphered=security == "hls-ciphered"):
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
        text = dlms.probe.transcript.render() if dlms.probe else ""
        assert ("mechanism=<Mechanism.HIGH_GMAC: 5>" in text) == security.startswith("hls")
        assert ("[glo-ciphered]" in text) == (security == "hls-ciphered")
        assert ("authentication_value=b'********'" in text) == (security == "lls")


@pytest.mark.parametrize("security", ["lls", "hls"])
def test_resets_by_cosem_methods_are_verified_by_read_back(
        port: tuple[DeviceRegisters, str], gate: Gate, security: str) -> None:
    registers, address = port
    device = registers.device
    device.replace_anchor(RemotePartyRole.ACCESS_CONTROL_BROKER, 2)  # not the model's own
    for reference, dlms in profiles(registers, address, gate, hls=security == "hls"):
        with dlms.session():
            changed = {c.role: c for c in dlms.read_trust_anchors()}
            acb = changed[RemotePartyRole.ACCESS_CONTROL_BROKER]
            assert acb.spki_fingerprint == device.anchor_fingerprints()[
                RemotePartyRole.ACCESS_CONTROL_BROKER]
            assert acb.spki_fingerprint != device.original_anchor_fingerprints()[
                RemotePartyRole.ACCESS_CONTROL_BROKER]
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
        assert anchors[RemotePartyRole.ACCESS_CONTROL_BROKER] is not None
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


def test_anchors_come_from_class_64_as_the_catalogue_digests_them(
        port: tuple[DeviceRegisters, str]) -> None:
    """A factory-fresh meter's anchors, read through class 64 (listed, exported, digested),
    are the model's ``original_anchors`` of harness/triage/models.yaml; empty slots are None;
    no manufacturer-specific anchor object is read (nor served)."""
    registers, address = port
    device = registers.device
    device.reset_security_credentials()
    entry = load_catalogue().for_model(device.model.name)
    for _reference, dlms in profiles(registers, address, None):
        with dlms.session():
            anchors = dlms.read_trust_anchors()
        text = dlms.probe.transcript.render() if dlms.probe else ""
        assert "class_id=64" in text and "method=7" in text
        assert "0.0.96.80." not in text
        assert entry is not None and entry.original_anchors
        assert {c.role.name: c.spki_fingerprint for c in anchors} == {
            r: entry.original_anchors.get(r) for r in (c.role.name for c in anchors)}
        held = {c.role: c for c in anchors}
        for role, digest in device.original_anchor_fingerprints().items():
            if role in held:
                assert held[role].spki_fingerprint == digest
                assert (held[role].subject is None) == (digest is None)
                assert digest is None or f"OU={role.value:02X}" in (held[role].subject or "")


def test_one_key_without_the_other_is_a_config_error(port: tuple[DeviceRegisters, str]) -> None:
    registers, address = port
    for _reference, dlms in profiles(registers, address, None):
        half = DlmsProfile(dlms.probe, secrets={"optical_password": registers.password,
                                                "dlms_encryption_key": "00" * 16})
        with pytest.raises(BenchConfigError, match="dlms_authentication_key"), half.session():
            pass
