"""The DeviceProfile contract, run once against every registered profile on the emulated bench.

The emulator arranges each device's state (commissioned with data, an anchor replaced), and
the profile must observe and change it over the wire exactly as the contract says.  What a
profile declares it cannot observe on its route (``cannot_observe``, e.g. the ``duis``
profile's clock or anchors) must raise NotObservableError if asked, and its effect is then
checked on the emulated device itself; the wrong-password case applies only to a profile
that uses the local port (the ``duis`` profile's access is the DCC's: test_remote_profile.py).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from harness.bench.bench import Slot
from harness.bench.session import BenchSession
from harness.devices.profile import (
    PROFILE_KIND,
    Capability,
    DeviceProfile,
    NotObservableError,
    load_profile,
)
from harness.domain.types import RemotePartyRole
from harness.emulator.world.device import EmulatedDevice
from harness.errors import OperationError
from harness.protocols.gbcs_alerts import GbcsAlert
from harness.registry import known_backends
from harness.triage.gate import Gate

PROFILES = known_backends(PROFILE_KIND)
SUPPLY_CYCLE = {"ESME": ("disabled", "enabled"), "GSME": ("closed", "armed", "open")}


@pytest.fixture(scope="module")
def session() -> Iterator[BenchSession]:
    """The default emulated bench at x10: the contract is the profiles' behaviour, and every
    wait of theirs scales (the line's own times at the baud are tested on their own, in
    tests/emulator/test_optical_line_times.py); at x1 this file took three minutes."""
    bench_session = BenchSession.from_file(None)
    bench_session.fast(10)
    bench_session.open(purpose="profile contract")
    yield bench_session
    bench_session.close()


def cases() -> list[tuple[str, str]]:
    """Every profile on every slot it triages; the ``duis`` cases first: the QA hub's HAN
    must still hold the meters the DCC reaches, and another profile's HAN reset (once its
    commit lands) takes them out of it while the inventory still says installed."""
    session = BenchSession.from_file(None)
    order = sorted(PROFILES, key=lambda name: (name != "duis", name))
    return [(profile, slot) for profile in order for slot, cfg in session.config.slots.items()
            if cfg.device_type in load_profile(profile).device_types]


@pytest.fixture(params=cases(), ids=lambda c: f"{c[0]}-{c[1]}")
def case(request: pytest.FixtureRequest, session: BenchSession,
         gate: Gate) -> Iterator[tuple[DeviceProfile, EmulatedDevice]]:
    profile_name, slot_name = request.param
    assert session.bench is not None and session.emulator is not None
    slot: Slot = session.bench.slot(slot_name)
    slot.power.set_voltage(slot.config.supply_voltage)
    slot.power.set_current_limit(slot.config.current_limit)
    slot.power.on()
    device = session.emulator.devices[slot_name]
    deadline = time.monotonic() + 5
    while not device.ready and time.monotonic() < deadline:
        time.sleep(0.02)
    profile = load_profile(profile_name).for_slot(
        slot, device_id=device.label.eui64, install_code=device.label.install_code)
    profile.gate = gate  # what a triage run gives it: a supplier's gate
    yield profile, device
    if not device.han_status().joined:  # one the duis profile put in the hub's HAN stays on:
        slot.power.off()  # cut before the join reached its NVM, it would have to join again


def test_identify_is_what_the_device_reports(case: tuple[DeviceProfile, EmulatedDevice]) -> None:
    profile, device = case
    ident = profile.identify()
    assert ident.device_id == device.identity.eui64
    assert (ident.device_type, ident.model, ident.firmware_version) == (
        device.device_type, device.identity.model, device.identity.firmware_version)


def test_diagnostics_show_anchors_and_the_local_port_access(
        case: tuple[DeviceProfile, EmulatedDevice]) -> None:
    profile, device = case
    diag = profile.read_diagnostics()
    if not profile.cannot_observe(Capability.ANCHORS):
        read = {c.role: c.spki_fingerprint for c in diag.certificates}
        assert read == {r: f for r, f in device.anchor_fingerprints().items() if r in read}
    if not profile.cannot_observe(Capability.LOCAL_PORT):
        assert GbcsAlert.COMMUNICATION_FROM_LOCAL_PORT in [r.code for r in diag.security_log]
    if profile.cannot_observe(Capability.CLOCK):  # not filled with the read time: absent
        assert diag.device_time is None and diag.clock_drift_s is None
    else:
        drift = diag.clock_drift_s
        assert drift is not None and abs(drift) < 120
    assert [r.code for r in diag.event_log] == device.log_codes("event")
    assert diag.han is not None
    if device.device_type.name == "CHF":
        assert diag.wan is not None and diag.wan.modem == device.wan_status().modem  # type: ignore[attr-defined]


def test_supply_switch_cycle(case: tuple[DeviceProfile, EmulatedDevice]) -> None:
    profile, device = case
    if device.device_type.name not in SUPPLY_CYCLE:
        pytest.skip("a hub has no load switch or valve")
    if profile.cannot_observe(Capability.SUPPLY_SWITCH):
        state = getattr(device, "supply_state", None) or device.valve_state
        assert profile.read_supply() == str(state())
        with pytest.raises(NotObservableError):
            profile.set_supply(SUPPLY_CYCLE[device.device_type.name][0])
        return
    for state in SUPPLY_CYCLE[device.device_type.name]:
        assert profile.set_supply(state) == state


def test_reset_leaves_the_original_state(case: tuple[DeviceProfile, EmulatedDevice]) -> None:
    profile, device = case
    device.commission_with_consumer_data(days=3)
    device.replace_anchor(RemotePartyRole.SUPPLIER, 1)
    time.sleep(device.model.commit_s + 0.2)
    remote = profile.cannot_observe(Capability.CONSUMER_DATA)
    if remote:  # what the route cannot read back is checked on the emulated device
        assert device.consumer_data().available
        with pytest.raises(NotObservableError):
            profile.read_consumer_data()
    else:
        assert any(v is not None for v in profile.read_consumer_data().values())
    with profile.session():
        profile.clear_consumer_data()
        profile.reset_certificates()
        profile.reset_han()
        profile.reset_lifecycle()
        if remote:
            assert not device.consumer_data().available
            return _assert_original(device.han_status().awaiting_install_code_join,
                                    device.anchor_fingerprints(), device)
        assert set(profile.read_consumer_data().values()) == {None}
        diag = profile.read_diagnostics()
    assert diag.han is not None
    _assert_original(diag.han.awaiting_install_code_join,
                     {c.role: c.spki_fingerprint for c in diag.certificates}, device)


def _assert_original(awaiting_join: bool, anchors: dict, device: EmulatedDevice) -> None:
    """Waiting to re-join with its install code, and each anchor read the original one."""
    assert awaiting_join
    assert anchors == {r: f for r, f in device.original_anchor_fingerprints().items()
                       if r in anchors}


def test_wrong_password_is_refused(case: tuple[DeviceProfile, EmulatedDevice]) -> None:
    profile, _ = case
    if profile.cannot_observe(Capability.LOCAL_PORT):
        pytest.skip(f"{profile.name} uses no local port, so no optical password; the DCC "
                    "refuses its wrong user instead (tests/devices/test_remote_profile.py)")
    wrong = type(profile)(profile.probe, secrets={"optical_password": "not-it"})
    with pytest.raises(OperationError):
        wrong.identify()
