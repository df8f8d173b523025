"""The reference profile over a real optical link to a meter serving the reference map."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from harness.config.models import InstrumentConfig
from harness.devices import reference_map as rmap
from harness.devices.reference import ReferenceProfile
from harness.domain.types import DeviceType, RemotePartyRole
from harness.drivers.optical.serial_probe import SerialOpticalProbe
from harness.emulator.optical.registers import DictRegisters, RegisterError
from harness.emulator.optical.server import OpticalPortServer
from harness.errors import BenchConfigError, OperationError
from harness.protocols.iec62056_21 import Identification
from harness.triage.gate import Gate

PASSWORD = "Pw9x4kQ7"


@dataclass
class MapMeter(DictRegisters):
    """A dict meter that answers the reference map's ER-NODATA and runs its resets."""

    def read(self, address: str) -> str:
        value = self.values.get(address)
        if value is None:
            raise RegisterError(rmap.NO_DATA if address in self.values else "ERROR")
        return value

    def execute(self, address: str, value: str) -> None:
        super().execute(address, value)
        if address == rmap.RESET_CONSUMER_DATA.address:
            for reg in rmap.CONSUMER_DATA:
                self.values[reg.address] = None  # type: ignore[assignment]


def meter_values() -> dict[str, str]:
    values = {
        "0.0.0": "00DB123456789012", "0.0.1": "EM00001234", "96.1.0": "ESME",
        "96.1.1": "Emulated Meters", "96.1.2": "EMU-ESME-1", "0.2.0": "1.4.2",
        "96.1.3": "SMETS2", "96.1.4": "GBCS v4.1", "0.9.0": "2026-11-26T07:00:00Z",
        "99.98.0": "2", "99.98.1": "8F57;2026-11-20T10:00:00Z",
        "99.98.2": "8F35;2026-11-20T10:05:00Z", "99.97.0": "0", "96.50.0": "meter_cover",
        "96.3.10": "enabled", "96.6.3": None, "96.60.0": "1", "96.60.1": "15",
        "96.60.2": "1A2B", "96.60.3": "0",
    }
    for role in rmap.ANCHOR_ROLES:
        values[rmap.anchor_address(role)] = f"CN={role.name};{role.value:064X}"
    values[rmap.anchor_address(RemotePartyRole.TRANSITIONAL_COS)] = None
    for reg in rmap.CONSUMER_DATA:
        values[reg.address] = "12.5"
    return values  # type: ignore[return-value]


@pytest.fixture
def meter() -> MapMeter:
    return MapMeter(Identification("EMh", "5", "EMU-ESME-1"), values=meter_values(),
                    password=PASSWORD)


@pytest.fixture
def profile(meter: MapMeter, gate: Gate) -> Iterator[ReferenceProfile]:
    server = OpticalPortServer(meter, transport="socket")
    server.start()
    config = InstrumentConfig(kind="optical_probe", backend="serial", address=server.resource)
    try:
        with SerialOpticalProbe("probe", config) as probe:
            made = ReferenceProfile(probe, secrets={"optical_password": PASSWORD})
            made.gate = gate
            yield made
    finally:
        server.stop()


def test_identify(profile: ReferenceProfile) -> None:
    ident = profile.identify()
    assert ident.device_type is DeviceType.ESME
    assert (ident.device_id, ident.model, ident.firmware_version) == (
        "00DB123456789012", "EMU-ESME-1", "1.4.2")


def test_diagnostics_in_one_session(profile: ReferenceProfile) -> None:
    diag = profile.read_diagnostics()
    signons = [e for e in profile.probe.transcript.entries if e.data.startswith(b"/?")]
    assert len(signons) == 1
    assert [r.code_hex for r in diag.event_log] == ["8F57", "8F35"]
    assert diag.tamper == {"meter_cover"}
    assert diag.han is not None and diag.han.joined and diag.han.pan_id == 0x1A2B
    by_role = {c.role: c for c in diag.certificates}
    assert by_role[RemotePartyRole.SUPPLIER].subject == "CN=SUPPLIER"
    assert by_role[RemotePartyRole.TRANSITIONAL_COS].spki_fingerprint is None
    drift = diag.clock_drift_s
    assert drift is not None and abs(drift) < 10 * 365 * 86400


def test_consumer_data_read_back_after_clearing(profile: ReferenceProfile,
                                                meter: MapMeter) -> None:
    assert set(profile.read_consumer_data().values()) == {"12.5"}
    profile.clear_consumer_data()
    assert (rmap.RESET_CONSUMER_DATA.address, "") in meter.executed
    assert set(profile.read_consumer_data().values()) == {None}


def test_supply_switch(profile: ReferenceProfile) -> None:
    assert profile.set_supply("disabled") == "disabled"


def test_wrong_password_is_an_operation_error(meter: MapMeter,
                                              profile: ReferenceProfile) -> None:
    wrong = ReferenceProfile(profile.probe, secrets={"optical_password": "00000000"})
    with pytest.raises(OperationError, match="password refused"):
        wrong.identify()


def test_missing_secret_names_the_key(profile: ReferenceProfile) -> None:
    with pytest.raises(BenchConfigError, match="optical_password"):
        ReferenceProfile(profile.probe).identify()


def test_password_never_reaches_the_transcript(profile: ReferenceProfile) -> None:
    profile.identify()
    assert PASSWORD.encode().hex(" ") not in profile.probe.transcript.render()


def test_the_map_document_lists_every_register() -> None:
    text = rmap.reference_map_md()
    for reg in rmap.all_registers():
        assert f"`{reg.address}`" in text
