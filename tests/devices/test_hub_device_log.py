"""A hub's CHF device log updated through the reference profile (HAN.ADD / HAN.DEL, the effect
of SR 8.11) for TRI-HAN-04's hub join: gated and audited under the clause, the install code
masked in the probe's transcript, refused without the gate; a meter has no device log, and a
profile that cannot update one says so before the gate (not assessed, never passed)."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest

from harness.config.models import InstrumentConfig
from harness.devices.dlms_profile import DlmsProfile
from harness.devices.profile import NotObservableError
from harness.devices.reference import ReferenceProfile
from harness.drivers.optical.serial_probe import SerialOpticalProbe
from harness.emulator.optical.device_registers import DeviceRegisters, registers_for_device
from harness.emulator.optical.server import OpticalPortServer
from harness.emulator.world.clock import ManualClock
from harness.emulator.world.models import create_device
from harness.emulator.world.models.comms_hub import CommsHub
from harness.errors import AccessDeniedError, OperationError
from harness.protocols.installcode import InstallCode
from harness.triage.audit import AuditLog
from harness.triage.gate import Gate

DONGLE = "000D6F0000ABCDEF"
CODE = InstallCode.generate(random.Random(7))


def served(kind: str) -> Iterator[tuple[DeviceRegisters, SerialOpticalProbe]]:
    clock = ManualClock()
    device = create_device(kind.lower(), kind, clock=clock, seed=31)
    device.supply(device.nominal_voltage)
    clock.advance(5.0)
    registers = registers_for_device(device)
    server = OpticalPortServer(registers, clock, transport="socket")
    server.start()
    config = InstrumentConfig(kind="optical_probe", backend="serial", address=server.resource,
                              timeout_s=0.5)
    try:
        with SerialOpticalProbe("probe", config) as probe:
            yield registers, probe
    finally:
        server.stop()


@pytest.fixture
def hub() -> Iterator[tuple[DeviceRegisters, SerialOpticalProbe]]:
    yield from served("CHF")


def test_the_dongle_goes_into_the_log_and_out_again_audited_and_masked(
        hub: tuple[DeviceRegisters, SerialOpticalProbe], gate: Gate,
        gate_audit: AuditLog) -> None:
    registers, probe = hub
    device = registers.device
    assert isinstance(device, CommsHub)
    profile = ReferenceProfile(probe, secrets={"optical_password": registers.password})
    profile.gate = gate
    profile.add_han_device(DONGLE, CODE)
    assert [e.eui64 for e in device.device_log()] == [DONGLE]
    profile.remove_han_device(DONGLE)
    assert not device.device_log()
    text = probe.transcript.render()
    assert "HAN.ADD" in text and DONGLE in text
    assert CODE.reveal() not in text and CODE.reveal(with_crc=False) not in text
    audited = [(e.clause, e.action, e.outcome) for e in gate_audit.entries()
               if e.clause == "TRI-HAN-04"]
    assert [a for _, a, _ in audited if "add" in a] and [a for _, a, _ in audited if "remove" in a]
    assert {o for _, _, o in audited} >= {"started", "done"}


def test_refused_without_the_gate_and_nothing_sent(
        hub: tuple[DeviceRegisters, SerialOpticalProbe]) -> None:
    registers, probe = hub
    profile = ReferenceProfile(probe, secrets={"optical_password": registers.password})
    with pytest.raises(AccessDeniedError):
        profile.add_han_device(DONGLE, CODE)
    assert not registers.device.device_log()  # type: ignore[attr-defined]
    assert "HAN.ADD" not in probe.transcript.render()


def test_a_route_without_a_device_log_update_says_so_before_the_gate(
        hub: tuple[DeviceRegisters, SerialOpticalProbe], gate: Gate,
        gate_audit: AuditLog) -> None:
    registers, probe = hub
    dlms = DlmsProfile(probe, secrets={"optical_password": registers.password})
    dlms.gate = gate
    with pytest.raises(NotObservableError, match="device log"):
        dlms.add_han_device(DONGLE, CODE)
    assert not [e for e in gate_audit.entries() if e.clause == "TRI-HAN-04"]


def test_a_meter_has_no_device_log(gate: Gate) -> None:
    for registers, probe in served("ESME"):
        profile = ReferenceProfile(probe, secrets={"optical_password": registers.password})
        profile.gate = gate
        with pytest.raises(OperationError, match="refused"):
            profile.add_han_device(DONGLE, CODE)


def test_an_rsa_may_not_update_a_hubs_device_log_and_the_refusal_is_audited(
        hub: tuple[DeviceRegisters, SerialOpticalProbe], gate_audit: AuditLog,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """SR 8.11 is open to IS, GS and OU, never to an RSA (GB-SMART-METERING.md): TRI-HAN-04
    is destructive, so an RSA's run puts nothing on the wire and the gate audits why."""
    from pathlib import Path

    from harness.bench.session import BenchSession

    monkeypatch.delenv("MB_SITE_CONFIG", raising=False)
    monkeypatch.setattr("harness.triage.site.DEFAULT_SITE_PATH", Path("/nonexistent/site.yaml"))
    registers, probe = hub
    profile = ReferenceProfile(probe, secrets={"optical_password": registers.password})
    rsa = Gate.open(BenchSession.from_file(None).config, role="rsa", operator="tests",
                    audit=gate_audit)
    try:
        profile.gate = rsa
        with pytest.raises(AccessDeniedError, match="TRI-HAN-04"):
            profile.add_han_device(DONGLE, CODE)
    finally:
        rsa.close()
    assert not registers.device.device_log()  # type: ignore[attr-defined]
    assert "HAN.ADD" not in probe.transcript.render()
    refused = [e for e in gate_audit.entries() if e.clause == "TRI-HAN-04"]
    assert [(e.outcome, e.role) for e in refused] == [("refused", "rsa")]
