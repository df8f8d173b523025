"""Each device type through its life: original state, commissioned, power-cycled, reset."""

from __future__ import annotations

import datetime

import pytest

from harness.domain.mpxn import mpan_check_digit
from harness.domain.types import DeviceType, RemotePartyRole, SmiStatus
from harness.emulator.world.clock import ManualClock
from harness.emulator.world.consumer import ConsumerData
from harness.emulator.world.device import EmulatedDevice
from harness.emulator.world.logs import LogKind
from harness.emulator.world.models import CommsHub, Esme, Gsme, create_device
from harness.emulator.world.pki import certificate_eui64
from harness.errors import BenchConfigError, OperationError
from harness.protocols.gbcs_alerts import GbcsAlert as A

TYPES = [DeviceType.ESME, DeviceType.GSME, DeviceType.CHF]
MODELS = ["EMU-ESME-1", "EMU-ESME-2", "EMU-GSME-1", "EMU-CH-1", "EMU-CH-2"]
TYPE_OF = {"ESME": DeviceType.ESME, "GSME": DeviceType.GSME, "CH": DeviceType.CHF}


def up(clock: ManualClock, model: str, seed: int = 11, **kw: object) -> EmulatedDevice:
    """A device of ``model``, powered and booted."""
    kind = TYPE_OF[model.split("-")[1]]
    device = create_device("dut", kind, model, seed=seed, clock=clock, **kw)  # type: ignore[arg-type]
    device.supply(device.nominal_voltage)
    clock.advance(device.profile.settle_s + 0.01)
    return device


def settle(clock: ManualClock, device: EmulatedDevice) -> None:
    """Let the device commit what it wrote."""
    clock.advance(device.model.commit_s + 0.01)
    assert device.committed


def power_cycle(clock: ManualClock, device: EmulatedDevice, off_s: float = 1.0) -> None:
    device.supply(0.0)
    clock.advance(off_s)
    device.supply(device.nominal_voltage)
    clock.advance(device.profile.settle_s + 0.01)


@pytest.mark.parametrize("kind", TYPES)
def test_factory_uses_the_class_and_default_model_of_each_type(kind: DeviceType) -> None:
    device = create_device("s", kind)
    expected = {DeviceType.ESME: Esme, DeviceType.GSME: Gsme, DeviceType.CHF: CommsHub}[kind]
    assert type(device) is expected and device.model.device_type is kind
    assert device.identity.device_type is kind


def test_factory_refuses_unknown_and_mismatched_models() -> None:
    with pytest.raises(BenchConfigError, match="unknown emulated model"):
        create_device("s", DeviceType.ESME, "NOPE")
    with pytest.raises(BenchConfigError, match="is a GSME, not a ESME"):
        create_device("s", DeviceType.ESME, "EMU-GSME-1")
    with pytest.raises(BenchConfigError, match="no models of device type PPMID"):
        create_device("s", DeviceType.PPMID)


@pytest.mark.parametrize("model", MODELS)
def test_original_state(model: str) -> None:
    clock = ManualClock()
    device = up(clock, model)
    ident = device.identity
    assert (ident.model, ident.eui64, ident.serial) == (model, device.label.eui64,
                                                        device.label.serial)
    assert ident.firmware_version and ident.smets_version == "SMETS2" and ident.gbcs_version
    if ident.device_type is DeviceType.CHF:
        assert ident.wan_variant and ident.han_variant in ("single band", "dual band")
    assert device.status is SmiStatus.PENDING
    assert [c.status for c in device.status_history()] == [SmiStatus.PENDING]
    assert device.anchor_fingerprints() == device.original_anchor_fingerprints()
    assert not device.consumer_data().available
    han = device.han_status()
    assert not han.joined and han.awaiting_install_code_join
    assert device.log_codes() == []  # a fresh device, first power on: nothing to say
    own = device.device_credentials()
    assert certificate_eui64(own.digital_signing.certificate) == ident.eui64
    assert certificate_eui64(own.key_agreement.certificate) == ident.eui64


def test_models_differ_in_their_original_anchors() -> None:
    one = create_device("a", DeviceType.ESME, "EMU-ESME-1").original_anchor_fingerprints()
    two = create_device("b", DeviceType.ESME, "EMU-ESME-2").original_anchor_fingerprints()
    assert one[RemotePartyRole.SUPPLIER] is not None and two[RemotePartyRole.SUPPLIER] is None
    assert one[RemotePartyRole.ROOT] == two[RemotePartyRole.ROOT]
    assert set(one) == set(two) == {
        RemotePartyRole.ROOT, RemotePartyRole.RECOVERY, RemotePartyRole.SUPPLIER,
        RemotePartyRole.NETWORK_OPERATOR, RemotePartyRole.ACCESS_CONTROL_BROKER,
        RemotePartyRole.WAN_PROVIDER, RemotePartyRole.TRANSITIONAL_COS,
    }


@pytest.mark.parametrize("model", MODELS)
def test_commissioning_fills_consumer_data_and_logs(model: str) -> None:
    clock = ManualClock()
    device = up(clock, model)
    device.commission_with_consumer_data(days=10)
    settle(clock, device)
    data = device.consumer_data()
    assert data.available and data.mpxn and data.import_register
    assert len(data.half_hourly) == 10 * 48 and len(data.daily_reads) == 10
    assert data.half_hourly[-1].at < device.clock_time()
    assert data.daily_reads[-1].value <= data.import_register
    if device.model.has_tou:
        assert len(data.tou_registers) == device.model.tou_registers
        assert sum(data.tou_registers) == data.import_register
    assert (data.prepayment_balance_p is not None) == device.model.prepayment
    assert device.status is SmiStatus.COMMISSIONED
    assert device.anchor_fingerprints() != device.original_anchor_fingerprints()
    assert A.DEVICE_COMMISSIONED in device.log_codes(LogKind.EVENT)
    assert device.log_codes(LogKind.SECURITY).count(A.UPDATE_SECURITY_CREDENTIALS) == 2


def test_consumer_data_is_deterministic_in_seed_and_clock() -> None:
    def data(seed: int) -> ConsumerData:
        clock = ManualClock()
        device = up(clock, "EMU-ESME-1", seed=seed, rtc_epoch=datetime.datetime(
            2025, 3, 1, 12, tzinfo=datetime.UTC))
        device.commission_with_consumer_data()
        return device.consumer_data()

    assert data(4) == data(4) != data(5)
    mpan = data(4).mpxn
    assert mpan is not None and len(mpan) == 13 and int(mpan[-1]) == mpan_check_digit(mpan[:12])


@pytest.mark.parametrize("model", MODELS)
def test_reset_leaves_the_original_state(model: str) -> None:
    clock = ManualClock()
    device = up(clock, model)
    device.commission_with_consumer_data()
    settle(clock, device)
    power_cycle(clock, device)
    assert device.consumer_data().available  # committed data survives a power cycle
    registers = device.consumer_data().metrology_only()
    report = device.triage_reset()
    assert report.consumer_data_cleared and report.status is SmiStatus.PENDING
    assert set(report.anchors_restored) == {RemotePartyRole.SUPPLIER,
                                            RemotePartyRole.NETWORK_OPERATOR}
    settle(clock, device)
    power_cycle(clock, device)  # what the reset did is committed, not just in RAM
    meter = device.device_type in (DeviceType.ESME, DeviceType.GSME)
    # A meter keeps its cumulative registers (legal metrology, MID); a hub keeps nothing.
    assert device.consumer_data() == (registers if meter else ConsumerData())
    data = device.consumer_data()
    assert not data.available and (data.import_register is not None) is meter
    assert data.mpxn is None and not data.half_hourly
    assert not data.daily_reads and not data.billing_reads and data.prepayment_balance_p is None
    assert not data.debts and not data.messages
    assert device.anchor_fingerprints() == device.original_anchor_fingerprints()
    han = device.han_status()
    assert not han.joined and han.awaiting_install_code_join and han.pan_id is None
    assert device.status is SmiStatus.PENDING
    assert device.status_history()[-1].reason == "triage reset"
    event = device.read_log(LogKind.EVENT)
    assert event[0].code == A.EVENT_LOG_CLEARED
    assert A.DEVICE_COMMISSIONED not in [e.code for e in event]
    security = device.log_codes(LogKind.SECURITY)
    assert security.count(A.UPDATE_SECURITY_CREDENTIALS) == 4  # 2 commissioning + 2 reset


def test_each_reset_step_is_an_operation_with_its_own_events() -> None:
    clock = ManualClock()
    esme = up(clock, "EMU-ESME-2")
    esme.commission_with_consumer_data()
    esme.arm_supply()  # type: ignore[attr-defined]
    esme.enable_supply()  # type: ignore[attr-defined]
    assert esme.reset_security_credentials() == (RemotePartyRole.SUPPLIER,
                                                 RemotePartyRole.NETWORK_OPERATOR)
    assert esme.reset_security_credentials() == ()  # already original: nothing logged
    assert esme.clear_consumer_data() and not esme.clear_consumer_data()
    assert esme.reset_lifecycle() is SmiStatus.PENDING
    assert esme.supply_state() == "armed"  # type: ignore[attr-defined]  # the model ships armed
    esme.clear_event_log()
    assert esme.log_codes(LogKind.EVENT) == [A.EVENT_LOG_CLEARED]


@pytest.mark.parametrize("kind", TYPES)
def test_operations_need_a_running_device(kind: DeviceType) -> None:
    clock = ManualClock()
    device = create_device("s", kind, clock=clock)
    with pytest.raises(OperationError, match="not powered"):
        device.triage_reset()
    device.supply(device.nominal_voltage)
    with pytest.raises(OperationError, match="booting"):
        device.commission_with_consumer_data()
    clock.advance(device.profile.settle_s)
    device.commission_with_consumer_data()


def test_field_returned_devices_hold_data_and_log_their_outage() -> None:
    clock = ManualClock()
    for model in MODELS:
        kind = TYPE_OF[model.split("-")[1]]
        device = create_device("s", kind, model, seed=3, clock=clock)
        device.load_field_history(days=90)
        assert device.consumer_data().available and device.status is SmiStatus.COMMISSIONED
        assert device.han_status().joined
        device.supply(device.nominal_voltage)
        clock.advance(device.profile.settle_s)
        power = device.log_codes(LogKind.POWER)
        assert power[0] == device.model.supply_loss_code
        assert power[-1] == A.SUPPLY_OUTAGE_RESTORED
        with pytest.raises(OperationError, match="before power on"):
            device.load_field_history()
        device.triage_reset()
        assert not device.consumer_data().available and not device.han_status().joined


def test_hub_reset_clears_its_device_logs_and_the_gpf_rejoins_with_its_install_code() -> None:
    clock = ManualClock()
    hub = up(clock, "EMU-CH-1")
    assert isinstance(hub, CommsHub)
    hub.commission_with_consumer_data()
    assert hub.han_status().joined  # the GPF joined its CHF
    assert [v.device_type for v in hub.device_log()] == [DeviceType.GPF]
    hub.triage_reset()
    assert hub.device_log() == () and hub.historic_device_log() == ()
    assert hub.han_status().awaiting_install_code_join
    assert not hub.consumer_data().available


def test_reset_returns_the_supply_to_the_model_original() -> None:
    clock = ManualClock()
    gsme = create_device("g", DeviceType.GSME, seed=8, clock=clock)
    assert isinstance(gsme, Gsme)
    gsme.load_field_history()
    gsme.supply(3.6)
    clock.advance(1.0)
    assert gsme.valve_state() == "open"  # in service at the customer's
    gsme.triage_reset()
    assert gsme.valve_state() == gsme.model.original_supply == "closed"


def test_identity_follows_the_seed_and_local_port_use_is_logged() -> None:
    clock = ManualClock()
    one = up(clock, "EMU-ESME-1", seed=30)
    two = up(clock, "EMU-ESME-1", seed=30)
    other = up(clock, "EMU-ESME-1", seed=31)
    assert one.identity == two.identity != other.identity
    assert one.label.install_code == two.label.install_code != other.label.install_code
    port = one.optical_port_behaviour()
    assert port.answers and not port.dead and port.drop_fraction == 0.0
    one.record_local_port_access()
    assert one.log_codes(LogKind.SECURITY) == [A.COMMUNICATION_FROM_LOCAL_PORT]
    one.supply(0.0)
    assert one.optical_port_behaviour().dead  # an unpowered port never answers
