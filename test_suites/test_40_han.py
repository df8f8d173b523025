"""Stage 4, HAN: the bench ZigBee dongle as a test CH rules HAN issues in or out.

A channel survey first (TRI-HAN-01), then a join with the install code on the label
(TRI-HAN-02: form a test network, give the trust centre the key derived from the code,
permit joining, watch the device join or fail with the reason the evidence supports), then
the joined device's link quality (TRI-HAN-03: LQI from every dongle, RSSI where the dongle's
stack reports it, as EZSP does; a Telegesis NTABLE has none, so there han_rssi is not
assessed).  A hub must be on the air (TRI-HAN-03), and must admit the bench dongle
(TRI-HAN-04): added to its device log with the dongle's own install code, the dongle joins
the hub's network.
The slot names the dongle in role ``han``.
The install code never reaches a log, a measurement or a report.
"""

from __future__ import annotations

import pytest

from harness.devices.profile import NotObservableError
from harness.drivers.zigbee.base import JoinNotSupportedError, PanInfo, ZigbeeDongle
from harness.errors import InstrumentTimeoutError, OperationError, ProtocolError
from harness.plugin.device import Dut
from harness.protocols.installcode import InstallCode, InstallCodeError
from harness.triage.han import ChannelSurvey, JoinTestResult, channel_survey, join_test
from harness.triage.hub_join import DEVICE_SIDE, join_hub, joining_code
from harness.triage.record import Measurement

from .steps import diagnostics

pytestmark = pytest.mark.device_type("ESME", "GSME")

QUIET_DBM = -85  # a channel below this is quiet enough for a join test (bench option quiet_dbm)
MIN_RSSI_DBM = -80  # TRI-HAN-03's han_rssi floor (bench option min_rssi_dbm)
JOIN_TIMEOUT_S = 30.0
FAST_JOIN_FLOOR_S = 3.0  # a healthy emulated join takes 0.03 s of wall time at x100


def join_timeout(dut: Dut) -> float:
    """The hub join's wait (TRI-HAN-04, timed by the dongle's own join): shorter in fast
    mode, with a wall-clock floor so a loaded CI machine does not fail a slow join."""
    scale = dut.slot.bench.time_scale
    return JOIN_TIMEOUT_S if scale == 1.0 else max(FAST_JOIN_FLOOR_S, JOIN_TIMEOUT_S / scale)


def join_wait(dut: Dut) -> tuple[float, float | None]:
    """The join test's wait (``join_test``'s ``timeout`` and ``floor_s``): shorter in fast
    mode (the emulated devices run faster), with a wall-clock floor reached only while the
    host is too busy to judge a silence, so a loaded CI machine does not turn a slow join
    into a false HAN fault and a dead radio on a free one costs no more than its scaled
    timeout."""
    scale = dut.slot.bench.time_scale
    if scale == 1.0:
        return JOIN_TIMEOUT_S, None
    return JOIN_TIMEOUT_S / scale, FAST_JOIN_FLOOR_S


def dongle(dut: Dut) -> ZigbeeDongle:
    """The slot's dongle; without one the HAN clauses are not assessed."""
    if "han" not in dut.config.instruments:
        dut.record.not_assessed.append("HAN: no dongle in the slot's 'han' role")
        pytest.skip("not assessed: the slot has no ZigBee dongle (role 'han')")
    instrument = dut.slot.instrument("han")
    assert isinstance(instrument, ZigbeeDongle), "role 'han' must be a zigbee instrument"
    return instrument


def quiet_threshold(d: ZigbeeDongle) -> int:
    return int(d.config.options.get("quiet_dbm", QUIET_DBM))


def survey(dut: Dut) -> ChannelSurvey:
    """The channel survey, taken once per device."""
    cached = dut.record.notes.get("han_survey")
    if cached is None:
        cached = channel_survey(dongle(dut), pan_scan=False)
        dut.record.notes["han_survey"] = cached
    return cached


@pytest.mark.spec("TRI-HAN-01")
def test_channel_energy_survey(dut: Dut, measure) -> None:
    """Energy on channels 11-26; at least one quiet channel, or the HAN clauses say nothing."""
    found = survey(dut)
    text = " ".join(f"{ch}:{dbm}" for ch, dbm in sorted(found.energy_dbm.items()))
    measure("han_channel_energy", text, "dBm", category="HAN")
    busy = found.busy(quiet_threshold(dongle(dut)))
    quiet = dut.record.measure(Measurement(
        "han_quiet_channels", len(found.energy_dbm) - len(busy), "count", low=1,
        clause="TRI-HAN-01"))
    if not quiet.passed:  # the bench's radio environment, not the device
        dut.record.bench_errors.append(f"TRI-HAN-01: no quiet channel ({quiet.describe()})")
        pytest.fail(quiet.describe(), pytrace=False)


def _install_code(dut: Dut, measure) -> InstallCode:
    code = dut.label.install_code
    if code is None:
        dut.record.not_assessed.append("TRI-HAN-02: no install code was scanned")
        pytest.skip("not assessed: no install code was scanned from the label")
    if isinstance(code, str):  # typed in from a label scan: check its CRC
        try:
            code = InstallCode.parse(code)
        except InstallCodeError as exc:
            dut.record.find("TRI-HAN-02", "HAN", f"label install code invalid: {exc}")
            bad = measure("install_code_crc_ok", False, "bool", expected=True, category="HAN")
            # measure() records and lets the test go on; a join needs a valid code: stop here
            pytest.fail(bad.describe(), pytrace=False)
    measure("install_code_crc_ok", True, "bool", expected=True, category="HAN")
    assert isinstance(code, InstallCode)
    return code


def _awaiting_install_code_join(dut: Dut) -> bool | None:
    """What the device itself says in its diagnostics (read now if this stage runs on its
    own, so a device kept in its field HAN is never taken for a dead radio); None when its
    route does not say."""
    han = diagnostics(dut).han
    return None if han is None else han.awaiting_install_code_join


@pytest.mark.spec("TRI-HAN-02")
def test_joins_a_test_network_with_its_install_code(dut: Dut, measure) -> None:
    """The device joins the dongle's test network with the key from its label's code."""
    d = dongle(dut)
    code = _install_code(dut, measure)
    if _awaiting_install_code_join(dut) is False:
        # Still in its field HAN: it will not try a new network until the HAN reset.
        dut.record.not_assessed.append("TRI-HAN-02: the device is not set to join with its "
                                       "install code (its field HAN is kept until the reset)")
        pytest.skip("not assessed: the device is not set to join with its install code")
    eui64 = dut.label.device_id or (dut.record.identity.device_id if dut.record.identity
                                    else None)
    if eui64 is None:
        pytest.skip("not assessed: no EUI-64 from the label or the device")
    dut.power_up()
    timeout, floor = join_wait(dut)
    result = join_test(d, eui64, code, timeout, channel=survey(dut).quietest(), floor_s=floor)
    dut.record.notes["han_join"] = result
    if not result.joined:
        dut.record.find("TRI-HAN-02", "HAN", f"join failed: {result.diagnosis}: {result.detail}")
    measure("han_joined", result.joined, "bool", expected=True, category="HAN")
    if result.joined:  # a join that did not happen has no join time
        measure("han_join_time", result.elapsed_s, "s", high=120, category="HAN")


@pytest.mark.spec("TRI-HAN-03")
def test_link_quality_of_the_joined_device(dut: Dut, measure) -> None:
    """The joined device's LQI in the dongle's neighbour table, and its RSSI where the
    dongle's stack reports one."""
    result: JoinTestResult | None = dut.record.notes.get("han_join")
    if result is None or not result.joined:
        pytest.skip("not assessed: the device did not join in TRI-HAN-02")
    d = dongle(dut)
    low = float(d.config.options.get("min_lqi", 100))
    measure("han_lqi", result.lqi, "LQI (0-255)", low=low, category="HAN")
    _rssi(dut, measure, d, result.rssi_dbm)


@pytest.mark.spec("TRI-HAN-03")
def test_link_quality_in_its_field_network(dut: Dut, measure) -> None:
    """A meter returned still in its field HAN will not join a test network before the HAN
    reset (TRI-HAN-02 is not assessed), but an ESME is a router of its field network: it
    answers the dongle's PAN scan with that network's PAN on its channel, a beacon with the
    LQI and RSSI the dongle's stack reports.  A GSME (a sleepy end device) sends none."""
    han = diagnostics(dut).han
    if (han is None or not han.joined or han.awaiting_install_code_join
            or han.channel is None or han.pan_id is None):
        pytest.skip("the device is in no field network: TRI-HAN-02's join measures its link")
    d = dongle(dut)
    dut.power_up()
    heard = [p for p in d.pan_scan() if (p.channel, p.pan_id) == (han.channel, han.pan_id)]
    if len(heard) != 1 or heard[0].lqi is None:
        why = ("no beacon of its field network heard (a sleepy end device sends none)"
               if not heard else f"{len(heard)} beacons of its field network's PAN" if
               len(heard) > 1 else "the dongle's PAN scan gives no link quality")
        dut.record.not_assessed.append(f"TRI-HAN-03 field network link: {why}")
        pytest.skip(f"not assessed: {why}")
    beacon = heard[0]
    busy = set(survey(dut).busy(quiet_threshold(d)))
    if {beacon.channel - 1, beacon.channel + 1} & busy:  # its own raises its channel
        dut.record.not_assessed.append(f"TRI-HAN-03 han_lqi: its field channel "
                                       f"{beacon.channel} is in interference at this bench")
        pytest.skip(f"not assessed: field channel {beacon.channel} is in interference")
    measure("han_lqi", beacon.lqi, "LQI (0-255)",
            low=float(d.config.options.get("min_lqi", 100)), category="HAN")
    _rssi(dut, measure, d, beacon.rssi_dbm)


def _rssi(dut: Dut, measure, d: ZigbeeDongle, rssi_dbm: int | None) -> None:
    """TRI-HAN-03's han_rssi, or a note that this dongle's stack does not report it."""
    if rssi_dbm is None:
        dut.record.not_assessed.append(f"TRI-HAN-03 han_rssi: the {d.config.backend} dongle "
                                       "reports no RSSI for a joined node")
        return
    measure("han_rssi", rssi_dbm, "dBm",
            low=float(d.config.options.get("min_rssi_dbm", MIN_RSSI_DBM)), category="HAN")


@pytest.mark.spec("TRI-HAN-03")
@pytest.mark.device_type("CHF")
def test_hub_network_is_on_the_air(dut: Dut, measure) -> None:
    """A powered hub runs its own HAN: the dongle's PAN scan must hear it, at a good LQI."""
    d = dongle(dut)
    pan = hub_pan(dut, d)
    if pan is None:
        dut.record.find("TRI-HAN-03", "HAN", "the hub's network is not heard in a PAN scan")
    measure("hub_pan_heard", pan is not None, "bool", expected=True, category="HAN")
    if pan is None:  # recorded above (the test fails); an unheard network has no LQI to judge
        return
    # A returned hub keeps the channel it chose at its install site; if that channel sits in
    # interference at this bench (its neighbours are busy too: Wi-Fi spans four ZigBee
    # channels), a low LQI says nothing about the hub's radio.
    busy = set(survey(dut).busy(quiet_threshold(d)))
    if {pan.channel - 1, pan.channel + 1} & busy:
        dut.record.not_assessed.append(f"TRI-HAN-03 hub_lqi: channel {pan.channel} is in "
                                       "interference at this bench")
        pytest.skip(f"not assessed: hub LQI on channel {pan.channel}, which is in "
                    f"interference at this bench (busy: {sorted(busy)})")
    measure("hub_lqi", pan.lqi, "LQI (0-255)",
            low=float(d.config.options.get("min_lqi", 100)), category="HAN")
    _rssi(dut, measure, d, pan.rssi_dbm)


def hub_pan(dut: Dut, d: ZigbeeDongle) -> PanInfo | None:
    """The hub's own network as the dongle's PAN scan hears it (its extended PAN ID is the
    hub's EUI-64), taken once per device; None when it is not heard."""
    if "hub_pan" not in dut.record.notes:
        identity = dut.record.identity or diagnostics(dut).identity  # this stage on its own
        eui = (identity.device_id or "").upper()
        dut.power_up()
        dut.record.notes["hub_pan"] = next(
            (p for p in d.pan_scan() if p.extended_pan_id.upper() == eui), None)
    found: PanInfo | None = dut.record.notes["hub_pan"]
    return found


@pytest.mark.spec("TRI-HAN-04")
@pytest.mark.device_type("CHF")
def test_hub_admits_the_bench_dongle(dut: Dut, measure) -> None:
    """The bench dongle, added to the hub's device log with its own install code (SR 8.11),
    joins the hub's network: a hub that seals its network key under a key it derived wrongly,
    or admits nothing, has a faulty HAN though nothing it says about itself shows it."""
    d = dongle(dut)
    pan = hub_pan(dut, d)
    if pan is None:  # test_hub_network_is_on_the_air records that finding
        dut.record.not_assessed.append("TRI-HAN-04 hub join: the hub's network is not heard")
        pytest.skip("not assessed: the hub's network is not heard, so there is none to join")
    code = joining_code(d)
    eui64 = d.identity().eui64
    profile = dut.profile()
    try:
        profile.add_han_device(eui64, code)
    except NotObservableError as exc:
        dut.record.not_assessed.append(f"TRI-HAN-04 hub join: {exc}")
        pytest.skip(f"not assessed: {exc}")
    except OperationError as exc:
        if isinstance(exc, InstrumentTimeoutError | ProtocolError):
            raise  # the port's trouble: charged by the plugin to whom it belongs
        dut.record.not_assessed.append(f"TRI-HAN-04 hub join: the hub did not take the dongle "
                                       f"into its device log: {exc}")
        pytest.skip(f"not assessed: the hub refused the device log update: {exc}")
    try:
        result = join_hub(d, pan, code, join_timeout(dut))
    except JoinNotSupportedError as exc:
        dut.record.not_assessed.append(f"TRI-HAN-04 hub join: {exc}")
        pytest.skip(f"not assessed: {exc}")
    finally:
        profile.remove_han_device(eui64)
    dut.record.notes["hub_join"] = result
    busy = set(survey(dut).busy(quiet_threshold(d)))
    if not result.joined and result.status not in DEVICE_SIDE and (
            {pan.channel - 1, pan.channel, pan.channel + 1} & busy):
        dut.record.not_assessed.append(f"TRI-HAN-04 hub join: {result.describe()}, on a "
                                       "channel in interference at this bench")
        pytest.skip(f"not assessed: {result.describe()} (channel in interference)")
    if not result.joined:
        dut.record.find("TRI-HAN-04", "HAN", f"hub join failed: {result.describe()}")
    measure("hub_admits_dongle", result.joined, "bool", expected=True, category="HAN")


@pytest.mark.spec("TRI-HAN-03")
@pytest.mark.device_type("CHF")
def test_hub_log_shows_no_repeated_join_failures(dut: Dut, measure) -> None:
    """A hub whose meters repeatedly failed to join (0x8F48) has a faulty HAN interface."""

    logs = diagnostics(dut)
    failures = sum(1 for e in (*logs.event_log, *logs.security_log) if e.code == 0x8F48)
    measure("hub_join_failures", failures, "count", high=2, category="HAN")
