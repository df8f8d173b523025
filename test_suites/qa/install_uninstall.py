"""QA install/uninstall through the DCC: each meter's life in a QA environment, step by step.

SECMP0013's original solution (GB-SMART-METERING.md, "Why triage exists"): a Supplier or a
Registered Supplier Agent installs and uninstalls a device in a QA environment with a dummy
MPxN through Service Requests.  For every ESME and GSME slot of the bench, in order, each
SMI status read back with 8.2 Read Inventory:

1. 12.2 Device Pre-notification                              -> Pending
2. 8.11 Update HAN Device Log: whitelisted in the QA hub with its install code and a dummy
   MPxN, the device still unpowered                          -> Whitelisted
3. HAN join: powered, it joins with its install code; the CHF reports it
                                                             -> Installed Not Commissioned
4. 8.1.1 Commission Device                                   -> Commissioned
5. reads: 7.4 Read Supply Status, 11.2 Read Firmware Version, 6.13 Read Event Log
                                                             -> unchanged
6. 8.3 Decommission Device                                   -> Decommissioned
7. back to the original state with meterbench's PROPOSED MBP.2 Reset Device (NOT DUIS: DUIS
   has no reset)                                             -> Pending, out of the hub's HAN,
   waiting to re-join with its install code; the 8.2 entry as it was before step 1

Every request is sent by the DCC user of the run's role (the site grants it, ``--role``
narrows it: supplier or rsa; ``harness.qa.users``).  Where DUIS's eligibility table lets that
role send it, it must succeed; where it does not (an RSA's 8.11, 8.1.1, 8.3 and the PROPOSED
MBP.2), the DCC must refuse it with E2 and the SMI must read back unchanged; then, only with
``--fallback-supplier``, the QA environment's Supplier (the bench's DCC user) makes the step
(audited) so every later step is still shown for the role; without it the journey stops.
Every destructive request is audited (``journey.py``).  The QA hub is the bench's
Communications Hub slot, installed (8.14.1) and commissioned first by that Supplier.

Not part of triage: this module's name does not match ``test_*.py``, so ``meterbench triage``
and ``pytest test_suites`` never collect it.  It runs only when named:
``meterbench qa [--bench B] [--role supplier|rsa]`` (harness/cli/qa.py) or
``pytest test_suites/qa/install_uninstall.py --mb-role rsa``.  A device's EUI-64 and
install code come from its label (scanned off an emulated device; on a lab bench the slot's
``profile_options.device_id`` and its ``install_code`` secret).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator

import pytest

from harness.bench.bench import Bench
from harness.bench.session import BenchSession
from harness.domain.eui64 import eui64_duis
from harness.domain.types import DeviceType, SmiStatus
from harness.drivers.dcc.base import DccAdapter
from harness.drivers.dcc.service_requests import ServiceRequestAdapter, sends_service_requests
from harness.plugin import gate_of, session_of
from harness.protocols.duis import TriageCheck
from harness.protocols.gbcs_alerts import GbcsAlert
from harness.protocols.installcode import InstallCode
from harness.qa import QA_ROLES, QaSite, acting_as, credentials_for, dummy_mpxn, power_up

from .journey import Journey

S = SmiStatus
METERS = (DeviceType.ESME, DeviceType.GSME)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One journey per ESME and GSME slot of the bench, each run through every step in turn."""
    if "journey" not in metafunc.fixturenames:
        return
    session = session_of(metafunc.config)
    slots = [name for name, cfg in session.config.slots.items() if cfg.device_type in METERS]
    if not slots:
        skip = pytest.mark.skip(reason="the bench has no ESME or GSME slot")
        metafunc.parametrize("journey", [pytest.param(None, marks=skip, id="no-meter")],
                             indirect=True, scope="module")
        return
    metafunc.parametrize("journey", slots, indirect=True, scope="module", ids=slots)


def _label(session: BenchSession, slot: str) -> tuple[str | None, InstallCode | None]:
    """EUI-64 and install code from the label of the device in ``slot``, scanned off the
    emulated device (as the emulated bench answers an operator's label prompt)."""
    device = session.emulator.devices.get(slot) if session.emulator else None
    return (device.label.eui64, device.label.install_code) if device else (None, None)


def _dcc(bench: Bench) -> ServiceRequestAdapter:
    """The bench's DCC adapter (exactly one), which sends Service Requests by method."""
    names = sorted(bench.config.instruments_of("dcc"))
    if len(names) != 1:
        pytest.skip(f"the QA suite needs one DCC adapter on the bench, not {len(names)}")
    dcc = bench.instrument(names[0], DccAdapter)
    if not sends_service_requests(dcc):
        pytest.skip(f"the QA suite sends Service Requests: DCC adapter {names[0]!r} "
                    f"({type(dcc).__name__}) is not a ServiceRequestsMixin")
    return dcc


@pytest.fixture(scope="module")
def qa_site(bench: Bench, meterbench_session: BenchSession) -> QaSite:
    """The QA environment: the bench's hub slot powered, installed and commissioned."""
    hubs = [n for n, c in bench.config.slots.items() if c.device_type is DeviceType.CHF]
    if len(hubs) != 1:
        pytest.skip(f"the QA suite needs one Communications Hub slot, not {len(hubs)}")
    hub = bench.slot(hubs[0])
    power_up(hub)
    hub_id = _label(meterbench_session, hub.name)[0] or hub.profile().identify().device_id
    site = QaSite(_dcc(bench), hub_id)
    site.ensure_hub()  # as the bench's DCC user: the QA environment's Supplier
    return site


@pytest.fixture(scope="module")
def journey(request: pytest.FixtureRequest, bench: Bench, meterbench_session: BenchSession,
            qa_site: QaSite) -> Iterator[Journey]:
    """One meter slot's journey, acted by ``--role``; left as it was found if a step fails."""
    slot = bench.slot(request.param)
    gate = gate_of(request.config)  # the role the site grants, narrowed by --role
    assert gate is not None  # the plugin's start_run opens the gate before any test runs
    role = gate.role_name
    if role not in QA_ROLES:
        pytest.skip(f"the QA route runs as a DCC user (supplier or rsa), not as {role}")
    dcc = qa_site.dcc
    assert sends_service_requests(dcc)  # qa_site was built from _dcc()
    scanned_id, scanned_code = _label(meterbench_session, slot.name)
    device_id = scanned_id or slot.config.profile_options.get("device_id")
    code = scanned_code or slot.secrets().get("install_code")
    if not device_id or code is None:
        pytest.skip(f"slot {slot.name}: no label (EUI-64 and install code) to install it with")
    original = qa_site.entry(device_id)
    if original is not None and original["DeviceStatus"] != S.PENDING:
        pytest.skip(f"{eui64_duis(device_id)} is {original['DeviceStatus']} in the SMI: the QA "
                    "install suite takes a device not in service (Pending or unknown)")
    trip = Journey(slot, device_id, slot.config.device_type, code,
                   str(slot.config.profile_options.get("mpxn")
                       or dummy_mpxn(slot.config.device_type)),
                   qa_site, dcc, role, credentials_for(bench, dcc, role),
                   credentials_for(bench, dcc, "supplier"), original, gate=gate)
    try:
        yield trip
    finally:
        try:
            trip.restore()
        finally:
            slot.power.off()


def test_pre_notification(journey: Journey, request: pytest.FixtureRequest) -> None:
    """12.2 Device Pre-notification (every role): the SMI has the device Pending."""
    with journey.step("pre-notification"):
        known = journey.original or {}
        options = journey.slot.config.profile_options
        manufacturer = known.get("DeviceManufacturer") or options.get("manufacturer")
        model = known.get("DeviceModel") or options.get("model")
        if not (manufacturer and model):
            pytest.skip("not run: the SMI does not know the device and the slot names no "
                        "manufacturer and model to pre-notify it with")
        firmware = known.get("DeviceFirmwareVersion")
        journey.attempt(request.node, "pre-notification", "12.2", lambda: journey.dcc.pre_notify(
            journey.device_id, device_type=journey.device_type.name, manufacturer=manufacturer,
            model=model, firmware_version=firmware, check=False))
        entry = journey.expect(S.PENDING)
        assert entry is not None and entry["DeviceType"] == journey.device_type.name
        journey.pre_notified_firmware = firmware


def test_whitelist(journey: Journey, request: pytest.FixtureRequest) -> None:
    """8.11 Update HAN Device Log (IS GS OU), the device unpowered: Whitelisted in the QA hub
    with its install code and the dummy MPxN."""
    with journey.step("whitelist"):
        journey.slot.power.off()
        hub = journey.site.hub_id
        answer = journey.attempt(request.node, "whitelist", "8.11", lambda: journey.dcc.whitelist(
            hub, journey.device_id, journey.install_code, mpxn=journey.mpxn, check=False))
        assert answer.body.get("JoinResponse") == "SUCCESS", answer.body
        entry = journey.expect(S.WHITELISTED)
        assert entry is not None
        assert (entry.get("ImportMPxN"), entry.get("CHFID")) == (journey.mpxn, eui64_duis(hub))


def test_han_join(journey: Journey, request: pytest.FixtureRequest) -> None:
    """Powered, the device joins the QA hub's HAN with its install code and the CHF reports it:
    Installed Not Commissioned, read back by the role (8.2: every role here)."""
    with journey.step("HAN join"):
        power_up(journey.slot)
        with acting_as(journey.dcc, journey.actor):
            journey.site.wait_status(journey.device_id, S.INSTALLED_NOT_COMMISSIONED)
        journey.observed(request.node, "HAN join", "the CHF reports the join (alert 0x8F49)",
                         S.WHITELISTED)
        assert journey.device_id in journey.site.hub_devices()


def test_commission(journey: Journey, request: pytest.FixtureRequest) -> None:
    """8.1.1 Commission Device (IS GS): Commissioned."""
    with journey.step("commission"):
        journey.attempt(request.node, "commission", "8.1.1", lambda: journey.dcc.commission(
            journey.device_id, check=False))
        journey.expect(S.COMMISSIONED)


def test_reads(journey: Journey, request: pytest.FixtureRequest) -> None:
    """7.4, 11.2 and 6.13 (every role here may read): answered, and nothing changes."""
    with journey.step("reads"):
        dcc, device = journey.dcc, journey.device_id
        supply = journey.attempt(request.node, "read", "7.4",
                                 lambda: dcc.read_supply_status(device, check=False))
        assert supply.body.get("SupplyStatus") in ("Enabled", "Disabled", "Armed"), supply.body
        firmware = journey.attempt(request.node, "read", "11.2",
                                   lambda: dcc.read_firmware_version(device, check=False))
        version = firmware.body.get("FirmwareVersion")
        assert version, firmware.body
        if journey.pre_notified_firmware:
            assert version == journey.pre_notified_firmware, "not the pre-notified firmware"
        since = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=1)
        log = journey.attempt(request.node, "read", "6.13",
                              lambda: dcc.read_event_log(device, start=since, check=False))
        found = log.body.get("LogEntry") or []
        codes = {e.get("AlertCode") for e in (found if isinstance(found, list) else [found])}
        assert f"0x{GbcsAlert.DEVICE_COMMISSIONED:04X}" in codes, f"no commissioning in {codes}"
        journey.expect(S.COMMISSIONED)


def test_decommission(journey: Journey, request: pytest.FixtureRequest) -> None:
    """8.3 Decommission Device (IS GS): Decommissioned."""
    with journey.step("decommission"):
        journey.attempt(request.node, "decommission", "8.3", lambda: journey.dcc.decommission(
            journey.device_id, check=False))
        journey.expect(S.DECOMMISSIONED)


def test_back_to_original_state(journey: Journey, request: pytest.FixtureRequest) -> None:
    """PROPOSED MBP.2 Reset Device (NOT DUIS; IS GS in the proposal): Pending again, out of
    the QA hub's HAN, waiting to re-join with its install code; the SMI entry as before."""
    with journey.step("back to original"):
        journey.attempt(request.node, "back to original", "MBP.2",
                        lambda: journey.dcc.reset(journey.device_id, check=False))
        journey.expect(S.PENDING)
        assert journey.device_id not in journey.site.hub_devices()
        with journey.as_supplier():  # PROPOSED MBP.1 (not DUIS): the device's HAN state
            han = journey.dcc.triage(journey.device_id, checks=(TriageCheck.HAN,)).body["HAN"]
        assert (han.get("Joined"), han.get("AwaitingInstallCodeJoin")) == ("false", "true"), han
        if journey.original is None:  # it was unknown to the SMI: 8.4 deletes the entry
            journey.attempt(request.node, "back to original", "8.4",
                            lambda: journey.dcc.update_inventory(journey.device_id, delete=True,
                                                                 check=False))
        assert journey.site.entry(journey.device_id) == journey.original
