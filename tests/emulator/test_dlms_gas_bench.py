"""The DLMS bench's gas slot: a DLMS gas twin (EMU-GSME-1D) is reached as a GB gas meter is,
woken by the probe's NUL preamble, then associated with HLS-GMAC with its own keys
(benches/emulated-dlms.toml gives the slot ``dlms_encryption_key`` and
``dlms_authentication_key`` as ``emulator:`` secrets); without them it would be LLS."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.bench.bench import Bench
from harness.bench.session import BenchSession
from harness.config.loader import default_bench_path
from harness.devices.dlms_profile import DlmsProfile
from harness.domain.types import DeviceType
from harness.drivers.optical.base import OpticalProbe
from harness.emulator.optical.cosem_security import meter_keys
from harness.emulator.world.models import create_device

BENCH = default_bench_path().parent / "emulated-dlms.toml"


@pytest.fixture
def bench(tmp_path_factory: pytest.TempPathFactory,
          monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[BenchSession, Bench]]:
    monkeypatch.setenv("MB_LOCK_DIR", str(tmp_path_factory.mktemp("locks")))
    session = BenchSession.from_file(BENCH)
    try:
        yield session, session.open("test")
    finally:
        session.close()


def test_a_dlms_gas_twin_is_woken_then_reached_with_hls(
        bench: tuple[BenchSession, Bench]) -> None:
    session, opened = bench
    assert session.emulator is not None
    device = create_device("gsme", DeviceType.GSME, "EMU-GSME-1D", seed=77,
                           clock=session.emulator.clock, nominal_voltage=3.6)
    session.emulator.present("gsme", device)
    device.supply(3.6)
    slot = opened.slot("gsme")
    secrets = slot.secrets()
    keys = meter_keys(device)
    assert (secrets["dlms_encryption_key"], secrets["dlms_authentication_key"]) == (
        keys.encryption_key.hex().upper(), keys.authentication_key.hex().upper())
    profile = slot.profile(name="dlms")
    assert isinstance(profile, DlmsProfile)
    with profile.session():
        identity = profile.identify()
        supply = profile.read_supply()
    assert (identity.device_type, identity.model, identity.device_id) == (
        DeviceType.GSME, device.identity.model, device.identity.eui64)
    assert supply in ("closed", "open", "armed")
    probe = slot.instrument("optical")
    assert isinstance(probe, OpticalProbe)
    text = probe.transcript.render()
    woken = text.find("> 00 00 00 00 00 00 00 00")
    associated = text.find("mechanism=<Mechanism.HIGH_GMAC: 5>")
    assert 0 <= woken < associated, "the wake-up preamble, then an HLS-GMAC association"
    assert "LOW_LEVEL" not in text and keys.encryption_key.hex() not in text.lower()
