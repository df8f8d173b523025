"""The ``duis`` profile against the emulated DCC (benches/emulated-remote.toml): what it does to
reach a meter, what it reads, what it declares it cannot observe, and who may use it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.bench.session import BenchSession
from harness.devices.profile import Capability, NotObservableError
from harness.devices.remote import RemoteProfile
from harness.domain.eui64 import eui64_duis
from harness.domain.types import DeviceType
from harness.drivers.dcc.base import DccAccessDeniedError, DccAdapter
from harness.emulator.world.device import EmulatedDevice
from harness.errors import BenchConfigError
from harness.protocols.gbcs_alerts import GbcsAlert
from harness.qa import QaSite, acting_as, credentials_for, dummy_mpxn, power_up
from harness.triage.audit import AuditLog
from harness.triage.gate import Gate

REMOTE_BENCH = Path(__file__).resolve().parents[2] / "benches" / "emulated-remote.toml"


@pytest.fixture(scope="module")
def remote() -> Iterator[BenchSession]:
    """The remote bench, open."""
    session = BenchSession.from_file(REMOTE_BENCH)
    session.open(purpose="duis profile")
    yield session
    session.close()


def meter(session: BenchSession, slot_name: str, *, powered: bool = True, gate: Gate | None,
          **options: Any) -> tuple[RemoteProfile, EmulatedDevice]:
    """A duis profile for the meter in ``slot_name`` (labelled as the emulator labels it)."""
    assert session.bench is not None and session.emulator is not None
    slot = session.bench.slot(slot_name)
    device = session.emulator.devices[slot_name]
    if powered:
        power_up(slot)
        deadline = time.monotonic() + 5
        while not device.ready:
            assert time.monotonic() < deadline, f"{slot_name} did not boot"
            time.sleep(0.02)
    else:
        slot.power.off()
    profile = RemoteProfile(session.bench.instrument("dcc", DccAdapter),
                            device_id=device.label.eui64, device_type=slot.config.device_type,
                            install_code=device.label.install_code,
                            hub_slot=session.bench.slot("ch"),
                            options={**slot.config.profile_options, **options})
    profile.gate = gate
    return profile, device


def smi(session: BenchSession, device_id: str) -> dict[str, Any] | None:
    """The device's 8.2 entry, read as the bench's Supplier."""
    assert session.bench is not None and session.emulator is not None
    hub = session.emulator.devices["ch"].eui64
    return QaSite(session.bench.instrument("dcc", DccAdapter), hub).entry(device_id)


def test_the_bench_file_picks_the_profile_and_the_label_addresses_the_device(
        remote: BenchSession) -> None:
    assert remote.bench is not None and remote.emulator is not None
    slot = remote.bench.slot("esme")
    with pytest.raises(BenchConfigError, match=r"slots\.esme\.profile_options\.device_id"):
        slot.profile()
    device = remote.emulator.devices["esme"]
    profile = slot.profile(device_id=device.label.eui64, install_code=device.label.install_code)
    assert isinstance(profile, RemoteProfile) and profile.probe is None
    assert profile.hub_slot is not None and profile.hub_slot.name == "ch"


class _PlainDcc(DccAdapter):
    """A DCC adapter backend without the Service Request methods (no ServiceRequestsMixin)."""

    def _open_link(self) -> None: ...

    def _identify_internal(self) -> str:
        return "plain DCC adapter"

    def _post(self, path: str, body: bytes, *, connect_timeout: float,
              response_timeout: float) -> bytes:
        raise AssertionError("never reached: the profile refuses this adapter first")


def test_a_dcc_adapter_without_service_requests_is_a_bench_error(
        remote: BenchSession, monkeypatch: pytest.MonkeyPatch) -> None:
    """Named as the bench's mistake when the profile is made, not an AttributeError later."""
    assert remote.bench is not None and remote.emulator is not None
    real = remote.bench.instruments["dcc"]
    monkeypatch.setitem(remote.bench.instruments, "dcc", _PlainDcc("dcc", real.config))
    device = remote.emulator.devices["esme"]
    with pytest.raises(BenchConfigError, match=r"sends Service Requests.*_PlainDcc") as caught:
        remote.bench.slot("esme").profile(device_id=device.label.eui64)
    assert caught.value.key_path == "slots.esme.instruments.dcc"


def test_first_use_installs_the_meter_in_the_hub_s_han_and_reads_it(
        remote: BenchSession, gate: Gate) -> None:
    profile, device = meter(remote, "esme", gate=gate)
    hub = remote.emulator.devices["ch"]  # type: ignore[union-attr]
    identity = profile.identify()  # the hub's EUI-64 is read through its maintenance port
    assert (identity.device_id, identity.device_type, identity.model, identity.serial) == (
        device.eui64, DeviceType.ESME, device.identity.model, "")
    assert identity.firmware_version == device.identity.firmware_version
    entry = smi(remote, device.eui64)
    assert entry is not None
    assert (entry["DeviceStatus"], entry["CHFID"], entry["ImportMPxN"]) == (
        "InstalledNotCommissioned", eui64_duis(hub.eui64), dummy_mpxn(DeviceType.ESME))
    diag = profile.read_diagnostics()
    assert diag.han is not None and diag.han.joined and not diag.han.awaiting_install_code_join
    assert "PROPOSED" in diag.extra["han"]
    assert [r.code for r in diag.event_log] == device.log_codes("event")
    assert [r.code for r in diag.security_log] == device.log_codes("security")
    assert diag.supply == str(device.supply_state())  # type: ignore[attr-defined]
    assert GbcsAlert.COMMUNICATION_FROM_LOCAL_PORT not in device.log_codes()  # no local port


def test_what_the_route_cannot_observe_is_declared_and_refused(remote: BenchSession,
                                                               gate: Gate) -> None:
    profile, _ = meter(remote, "esme", gate=gate)
    declared = {c for c in Capability if profile.cannot_observe(c)}
    assert declared == set(Capability) - {Capability.RESET}
    with pytest.raises(NotObservableError, match=r"7\.1-7\.3"):
        profile.set_supply("disabled")
    with pytest.raises(NotObservableError, match="consumer data"):
        profile.read_consumer_data()
    plain, _ = meter(remote, "esme", gate=gate, proposals=False)  # a DCC serving DUIS only
    assert plain.cannot_observe(Capability.RESET)
    diag = plain.read_diagnostics()
    assert diag.han is None and "not observed" in diag.extra["han"]
    with pytest.raises(NotObservableError, match=r"MBP\.2 is switched off"):
        plain.reset_certificates()


def test_an_rsa_operator_does_not_install_with_the_supplier_s_credentials(
        remote: BenchSession, gate_audit: AuditLog) -> None:
    """The route signs as the bench's DCC user (the QA Supplier): for an operator acting as an
    RSA that is the audited Supplier fallback, refused unless the run chose it."""
    rsa = Gate.open(remote.config, role="rsa", operator="bob", audit=gate_audit)
    profile, device = meter(remote, "gsme", gate=rsa)
    before = smi(remote, device.eui64)
    with pytest.raises(NotObservableError, match="--fallback-supplier"):
        profile.identify()
    assert smi(remote, device.eui64) == before
    assert [(e.action, e.outcome, e.role) for e in gate_audit.entries()] == [
        ("fallback to supplier for 8.11", "refused", "rsa")]


def test_an_rsa_reads_an_installed_meter_but_neither_installs_nor_resets(
        remote: BenchSession, gate: Gate) -> None:
    assert remote.bench is not None
    dcc = remote.bench.instrument("dcc", DccAdapter)
    rsa = credentials_for(remote.bench, dcc, "rsa")
    profile, device = meter(remote, "gsme", gate=gate)
    before = smi(remote, device.eui64)
    assert before is not None and before["DeviceStatus"] == "Pending"
    with acting_as(dcc, rsa), pytest.raises(NotObservableError, match="E2"):
        profile.identify()  # 8.11 is not an RSA's to send
    assert smi(remote, device.eui64) == before
    supplier, _ = meter(remote, "gsme", gate=gate)
    supplier.identify()  # the Supplier installs it
    installed = smi(remote, device.eui64)
    reader, _ = meter(remote, "gsme", gate=gate)
    with acting_as(dcc, rsa):
        assert reader.read_supply() == str(device.valve_state())  # type: ignore[attr-defined]
        with pytest.raises(DccAccessDeniedError) as refused:
            reader.reset_certificates()  # 8.3 (and MBP.2) are not an RSA's
    assert refused.value.response_code == "E2"
    assert smi(remote, device.eui64) == installed
    for step in (supplier.reset_certificates, supplier.clear_consumer_data, supplier.reset_han,
                 supplier.reset_lifecycle):
        step()  # 8.3, then the PROPOSED MBP.2 once; each step checks its part
    after = smi(remote, device.eui64)
    assert after is not None and after["DeviceStatus"] == "Pending"
    assert device.han_status().awaiting_install_code_join
    with pytest.raises(NotObservableError, match="was reset"):
        supplier.identify()  # it left the HAN: not silently installed again


def test_a_meter_the_dcc_cannot_reach_is_not_assessed_not_a_fault(remote: BenchSession,
                                                                   gate: Gate) -> None:
    profile, device = meter(remote, "gsme", gate=gate, powered=False, timeout_s=0.3)
    with pytest.raises(NotObservableError, match="could not be installed") as first:
        profile.read_diagnostics()  # whitelisted, but an unpowered meter never joins
    started = time.monotonic()
    with pytest.raises(NotObservableError) as again:
        profile.identify()
    assert str(again.value) == str(first.value) and time.monotonic() - started < 0.2
    entry = smi(remote, device.eui64)
    assert entry is not None and entry["DeviceStatus"] == "Whitelisted"


def test_the_duis_profile_refuses_a_slot_that_is_not_of_an_open_bench(remote: BenchSession) -> None:
    """It reads the slot's whole bench, which the profiles' SlotView does not promise."""
    assert remote.bench is not None
    slot = remote.bench.slot("esme")

    class _LoneSlot:
        name, config = slot.name, slot.config
        instrument, secrets = slot.instrument, slot.secrets

    with pytest.raises(TypeError, match=r"slot of an open bench.*_LoneSlot"):
        RemoteProfile.for_slot(_LoneSlot(), device_id="00-00-00-00-00-00-00-01")
