"""HAN joining with real keys on both sides, and the CHF whitelist's half-window rule."""

from __future__ import annotations

import random

import pytest

from harness.domain.types import DeviceType, SmiStatus
from harness.emulator.world.clock import ManualClock
from harness.emulator.world.han import (
    DeviceLogEntry,
    JoinResponseCode,
    JoinResult,
    offered_key,
    open_transport_key,
    seal_transport_key,
)
from harness.emulator.world.identity import install_code_for
from harness.emulator.world.logs import LogKind
from harness.emulator.world.models import CommsHub, MeterDevice, create_device
from harness.protocols.gbcs_alerts import GbcsAlert as A
from harness.protocols.installcode import InstallCode

TIMEOUT = 3600.0  # EMU-CH-1's join timeout


class Bench:
    """A hub and two meters on one manual clock, all powered and booted."""

    def __init__(self, meter_faults: tuple[str, ...] = (), hub_faults: tuple[str, ...] = ()
                 ) -> None:
        self.clock = ManualClock()
        hub = create_device("ch", DeviceType.CHF, "EMU-CH-1", seed=1, clock=self.clock,
                            faults=hub_faults)
        esme = create_device("esme", DeviceType.ESME, seed=2, clock=self.clock,
                             faults=meter_faults)
        gsme = create_device("gsme", DeviceType.GSME, seed=3, clock=self.clock)
        assert isinstance(hub, CommsHub)
        assert isinstance(esme, MeterDevice) and isinstance(gsme, MeterDevice)
        self.hub, self.esme, self.gsme = hub, esme, gsme
        for device in (hub, esme, gsme):
            device.supply(device.nominal_voltage)
        self.clock.advance(1.0)

    def whitelist(self, meter: MeterDevice) -> JoinResponseCode:
        return self.hub.whitelist(meter.label.eui64, meter.label.install_code,
                                  device_type=meter.device_type)


def test_meter_joins_with_the_key_from_its_install_code() -> None:
    meter = create_device("m", DeviceType.ESME, seed=9, clock=(clock := ManualClock()))
    assert isinstance(meter, MeterDevice)
    meter.supply(230.0)
    clock.advance(1.0)
    wrong = InstallCode.generate(random.Random(1)).link_key()
    assert meter.try_join(wrong, 15, 0x1234) is JoinResult.KEY_MISMATCH
    assert not meter.han_status().joined
    right = meter.label.install_code.link_key()
    assert meter.try_join(right, 15, 0x1234) is JoinResult.JOINED
    han = meter.han_status()
    assert han.joined and (han.channel, han.pan_id) == (15, 0x1234)
    assert not han.awaiting_install_code_join  # a fresh link key replaced the install-code one
    assert meter.log_codes(LogKind.EVENT) == [A.DEVICE_JOINED_SMHAN]
    assert meter.status is SmiStatus.INSTALLED_NOT_COMMISSIONED


def test_transport_key_opens_only_under_the_same_key() -> None:
    key = InstallCode.generate(random.Random(2)).link_key()
    other = InstallCode.generate(random.Random(3)).link_key()
    coordinator, device = "00DB310000000001", "00DB120000000002"
    frame = seal_transport_key(key, b"N" * 16, coordinator, device, 7)
    assert open_transport_key(key, frame, coordinator, device, 7) == b"N" * 16
    assert open_transport_key(other, frame, coordinator, device, 7) is None
    assert open_transport_key(key, frame, coordinator, device, 8) is None


def test_hub_admits_a_whitelisted_meter_and_logs_it() -> None:
    bench = Bench()
    hub, esme = bench.hub, bench.esme
    assert hub.join(esme) is JoinResult.NOT_WHITELISTED
    assert bench.whitelist(esme) is JoinResponseCode.SUCCESS
    assert bench.whitelist(bench.gsme) is JoinResponseCode.SUCCESS
    assert hub.join(esme) is JoinResult.JOINED
    assert hub.join(bench.gsme) is JoinResult.JOINED
    assert esme.han_status().coordinator == hub.eui64
    assert esme.han_status().channel == hub.channel
    assert [v.joined for v in hub.device_log()] == [True, True]
    assert bench.whitelist(esme) is JoinResponseCode.INCOMPATIBLE_WITH_EXISTING_ENTRY
    codes = hub.log_codes(LogKind.EVENT)
    assert codes.count(A.DEVICE_JOINING_FAILED) == 1
    assert codes.count(A.DEVICE_JOINING_SUCCEEDED) == 2
    assert A.CH_CONNECTED_TO_ESME in codes and A.CHF_DEVICE_LOG_CHANGED in codes
    assert [a.result for a in hub.join_attempts()] == [
        JoinResult.NOT_WHITELISTED, JoinResult.JOINED, JoinResult.JOINED]
    assert hub.join_attempts()[1].key_source == "install code"


def test_whitelist_window_expires() -> None:
    bench = Bench()
    bench.whitelist(bench.esme)
    bench.clock.advance(TIMEOUT)
    assert bench.hub.join(bench.esme) is JoinResult.NOT_WHITELISTED


def rejoin_setup(reset_meter: bool) -> Bench:
    """The meter joined, left (the hub keeps its old key), and is whitelisted again."""
    bench = Bench()
    hub, esme = bench.hub, bench.esme
    bench.whitelist(esme)
    assert hub.join(esme) is JoinResult.JOINED
    assert hub.remove_device(esme.eui64) and esme.leave()
    assert hub.historic_device_log() == (esme.eui64,)
    if reset_meter:
        esme.reset_han()
        assert esme.han_status().awaiting_install_code_join
    assert bench.whitelist(esme) is JoinResponseCode.SUCCESS
    return bench


def test_known_device_joins_with_its_old_key_in_the_first_half() -> None:
    bench = rejoin_setup(reset_meter=False)
    bench.clock.advance(TIMEOUT / 2 - 1)
    assert bench.hub.join(bench.esme) is JoinResult.JOINED
    assert bench.hub.join_attempts()[-1].key_source == "old link key"


def test_known_device_needs_its_old_key_in_the_first_half_and_install_code_after() -> None:
    bench = rejoin_setup(reset_meter=True)
    bench.clock.advance(TIMEOUT / 2 - 1)
    assert bench.hub.join(bench.esme) is JoinResult.KEY_MISMATCH  # reset: old key gone
    bench.clock.advance(2)
    assert bench.hub.join(bench.esme) is JoinResult.JOINED
    assert bench.hub.join_attempts()[-1].key_source == "install code"


def test_not_reset_device_cannot_use_the_install_code_window() -> None:
    bench = rejoin_setup(reset_meter=False)
    bench.clock.advance(TIMEOUT / 2 + 1)
    assert bench.hub.join(bench.esme) is JoinResult.KEY_MISMATCH  # it still holds the old key


def test_offered_key_rule_on_its_own() -> None:
    ic = InstallCode.generate(random.Random(4)).link_key()
    old = InstallCode.generate(random.Random(5)).link_key()
    fresh = DeviceLogEntry("00DB120000000009", None, ic, None, 100.0, 10.0)
    known = DeviceLogEntry("00DB120000000009", None, ic, old, 100.0, 10.0)
    assert offered_key(fresh, 100.0) == (ic, "install code")
    assert offered_key(fresh, 109.9) == (ic, "install code")
    assert offered_key(fresh, 110.0) is None and offered_key(fresh, 99.0) is None
    assert offered_key(known, 104.9) == (old, "old link key")
    assert offered_key(known, 105.0) == (ic, "install code")


def test_historic_log_keeps_the_last_fifteen() -> None:
    clock = ManualClock()
    hub = create_device("ch", DeviceType.CHF, "EMU-CH-2", clock=clock)  # 8-entry device log
    assert isinstance(hub, CommsHub)
    hub.supply(230.0)
    clock.advance(1.0)
    meters = []
    for seed in range(20):
        meter = create_device(f"m{seed}", DeviceType.ESME, seed=100 + seed, clock=clock)
        assert isinstance(meter, MeterDevice)
        meter.supply(230.0)
        meters.append(meter)
    clock.advance(1.0)
    for meter in meters:
        assert hub.whitelist(meter.eui64, meter.label.install_code) is JoinResponseCode.SUCCESS
        assert hub.join(meter) is JoinResult.JOINED
        hub.remove_device(meter.eui64)
    assert hub.historic_device_log() == tuple(m.eui64 for m in meters[-15:])
    for meter in meters[:8]:
        hub.whitelist(meter.eui64, meter.label.install_code)
    assert hub.whitelist(meters[9].eui64, meters[9].label.install_code) is (
        JoinResponseCode.DEVICE_LOG_FULL)


@pytest.mark.parametrize(("fault", "result"), [
    ("han_radio_dead", JoinResult.NO_RESPONSE),
    ("han_join_fails", JoinResult.KEY_MISMATCH),
    ("wrong_install_code_label", JoinResult.KEY_MISMATCH),
    ("label_mismatch", JoinResult.NOT_WHITELISTED),
    ("firmware_verification_fails", JoinResult.NO_RESPONSE),
])
def test_meter_han_faults_show_in_the_join(fault: str, result: JoinResult) -> None:
    bench = Bench(meter_faults=(fault,))
    bench.whitelist(bench.esme)
    assert bench.hub.join(bench.esme) is result
    assert bench.hub.log_codes(LogKind.EVENT)[-1] == A.DEVICE_JOINING_FAILED


def test_wrong_label_code_is_the_label_not_the_device() -> None:
    bench = Bench(meter_faults=("wrong_install_code_label",))
    genuine = install_code_for(bench.esme.model, bench.esme.seed)
    assert genuine != bench.esme.label.install_code
    bench.hub.whitelist(bench.esme.eui64, genuine)  # the manufacturer's record of the code
    assert bench.hub.join(bench.esme) is JoinResult.JOINED


@pytest.mark.parametrize(("fault", "result"), [
    ("han_radio_dead", JoinResult.NO_RESPONSE),
    ("han_join_fails", JoinResult.KEY_MISMATCH),
])
def test_hub_han_faults_show_in_the_join(fault: str, result: JoinResult) -> None:
    bench = Bench(hub_faults=(fault,))
    bench.whitelist(bench.esme)
    assert bench.hub.join(bench.esme) is result
