"""The emulated meter's high-level security: HLS-GMAC (mechanism 5) in the plain and the
ciphered LN context, with the meter's own keys; wrong answers refused and locked out like
wrong passwords; replayed invocation counters refused; keys for ``emulator:`` secrets."""

from __future__ import annotations

import pytest

from harness.config.loader import default_bench_path, load_bench
from harness.emulator.bench import EmulatedBench
from harness.emulator.optical.cosem_security import meter_keys
from harness.emulator.optical.device_registers import DeviceRegisters, registers_for_device
from harness.emulator.optical.engine import MeterPortEngine
from harness.emulator.world.clock import ManualClock
from harness.emulator.world.models import create_device
from harness.protocols.dlms import (
    AARE,
    AARQ,
    ActionRequest,
    ActionResponse,
    ApplicationContext,
    AssociationResult,
    AttributeDescriptor,
    CipheredApdu,
    Data,
    DataType,
    DlmsSecurityError,
    ExceptionResponse,
    GetRequest,
    GetResponse,
    InitiateRequest,
    InitiateResponse,
    Mechanism,
    MethodDescriptor,
    Obis,
    check_hls_gmac_proof,
    decode_xdlms,
    hls_gmac_proof,
    protect,
    unprotect,
)
from tests.emulator.test_dlms_meter_port import CONFORMANCE, Meter

CLIENT_TITLE = bytes.fromhex("4D54420000000001")
CTOS = b"K56iVagYK56iVagY"
REPLY = MethodDescriptor(15, Obis.parse("0.0.40.0.0.255"), 1)
EVENT_LOG_ENTRIES = AttributeDescriptor(7, Obis.parse("0.0.99.98.0.255"), 7)


@pytest.fixture
def registers() -> DeviceRegisters:
    clock = ManualClock()
    device = create_device("esme", "ESME", clock=clock, seed=7)
    device.supply(230.0)
    clock.advance(5)
    device.commission_with_consumer_data(days=3)
    return registers_for_device(device)


@pytest.fixture
def engine(registers: DeviceRegisters) -> MeterPortEngine:
    return MeterPortEngine(registers, registers.device.clock)


def hls_aarq(*, ciphered_initiate: bytes | None = None) -> AARQ:
    initiate = InitiateRequest(CONFORMANCE, 0xFFFF)
    if ciphered_initiate is None:
        return AARQ(initiate, mechanism=Mechanism.HIGH_GMAC, authentication_value=CTOS,
                    calling_ap_title=CLIENT_TITLE)
    return AARQ(CipheredApdu.decode(ciphered_initiate), ApplicationContext.LN_CIPHERED,
                Mechanism.HIGH_GMAC, CTOS, CLIENT_TITLE)


def proof(aare: AARE, key: bytes, auth_key: bytes, counter: int = 1) -> Data:
    assert aare.authentication_value is not None
    return Data(DataType.OCTET_STRING, hls_gmac_proof(
        aare.authentication_value, key=key, auth_key=auth_key, system_title=CLIENT_TITLE,
        invocation_counter=counter))


def test_hls_gmac_four_passes_in_the_plain_context(engine: MeterPortEngine,
                                                   registers: DeviceRegisters) -> None:
    keys = registers.dlms_keys
    meter = Meter(engine, client=0x01)
    meter.connect()
    aare = AARE.decode(meter.call(hls_aarq().encode()))
    assert (aare.result, aare.diagnostic, aare.mechanism) == (
        AssociationResult.ACCEPTED, 14, Mechanism.HIGH_GMAC)  # authentication-required
    assert aare.responding_ap_title == keys.system_title
    assert aare.authentication_value is not None and len(aare.authentication_value) == 16
    assert isinstance(aare.user_information, InitiateResponse)
    # nothing but reply_to_HLS_authentication before the client has answered StoC
    refused = decode_xdlms(meter.call(GetRequest(EVENT_LOG_ENTRIES).encode()))
    assert isinstance(refused, ExceptionResponse)
    answer = decode_xdlms(meter.call(ActionRequest(REPLY, proof(
        aare, keys.encryption_key, keys.authentication_key)).encode()))
    assert isinstance(answer, ActionResponse) and answer.result == 0
    assert isinstance(answer.data, Data)
    check_hls_gmac_proof(bytes(answer.data.value), CTOS, key=keys.encryption_key,
                         auth_key=keys.authentication_key, system_title=keys.system_title)
    with pytest.raises(DlmsSecurityError):  # f(CtoS) is over our challenge, not another
        check_hls_gmac_proof(bytes(answer.data.value), CTOS[::-1], key=keys.encryption_key,
                             auth_key=keys.authentication_key, system_title=keys.system_title)
    assert meter.get(64, "0.0.43.0.0.255", 4) == Data(DataType.OCTET_STRING, CLIENT_TITLE)
    entries = meter.get(7, "0.0.99.98.0.255", 7)
    assert entries == Data(DataType.DOUBLE_LONG_UNSIGNED,
                           len(registers.device.read_log("event")))


def test_a_wrong_key_is_refused_and_counts_towards_the_lockout(
        engine: MeterPortEngine, registers: DeviceRegisters) -> None:
    keys = registers.dlms_keys
    meter = Meter(engine, client=0x01)
    meter.connect()
    for attempt in range(3):
        aare = AARE.decode(meter.call(hls_aarq().encode()))
        answer = decode_xdlms(meter.call(ActionRequest(REPLY, proof(
            aare, keys.encryption_key, bytes(16), attempt + 1)).encode()))
        assert isinstance(answer, ActionResponse) and answer.result == 3  # read-write-denied
        assert answer.data is None
        still = decode_xdlms(meter.call(GetRequest(EVENT_LOG_ENTRIES).encode()))
        assert isinstance(still, ExceptionResponse)  # still not authenticated
    assert engine.locked
    aare = AARE.decode(meter.call(hls_aarq().encode()))
    right = decode_xdlms(meter.call(ActionRequest(REPLY, proof(
        aare, keys.encryption_key, keys.authentication_key)).encode()))
    assert isinstance(right, ActionResponse) and right.result == 3  # locked, even when right


def test_the_public_client_and_a_meter_without_hls(engine: MeterPortEngine) -> None:
    meter = Meter(engine, client=0x10)
    meter.connect()
    assert AARE.decode(meter.call(hls_aarq().encode())).diagnostic == 11  # not for 0x10


def test_hls_in_the_ciphered_context_and_replays_refused(engine: MeterPortEngine,
                                                         registers: DeviceRegisters) -> None:
    keys = registers.dlms_keys
    ek, ak = keys.encryption_key, keys.authentication_key

    def seal(plain: bytes, counter: int, *, general: bool = False) -> bytes:
        return protect(plain, key=ek, auth_key=ak, system_title=CLIENT_TITLE,
                       invocation_counter=counter, general=general)

    def open_(apdu: bytes) -> object:
        plain, framed = unprotect(apdu, key=ek, auth_key=ak, system_title=keys.system_title)
        assert framed.security_control == 0x30
        return decode_xdlms(plain)

    meter = Meter(engine, client=0x01)
    meter.connect()
    initiate = InitiateRequest(CONFORMANCE, 0xFFFF).encode()
    aare = AARE.decode(meter.call(hls_aarq(ciphered_initiate=seal(initiate, 1)).encode()))
    assert (aare.result, aare.context) == (AssociationResult.ACCEPTED,
                                           ApplicationContext.LN_CIPHERED)
    assert isinstance(aare.user_information, CipheredApdu)
    assert aare.user_information.tag == 0x28  # glo-initiateResponse
    plain, _ = unprotect(aare.user_information, key=ek, auth_key=ak,
                         system_title=keys.system_title)
    assert isinstance(InitiateResponse.decode(plain), InitiateResponse)
    action = ActionRequest(REPLY, proof(aare, ek, ak, 2)).encode()
    assert isinstance(decode_xdlms(meter.call(action)), ExceptionResponse)  # plain: refused
    reply = meter.call(seal(action, 3, general=True))
    assert reply[0] == 0xDB  # answered as asked: general-glo-ciphering
    answer = open_(reply)
    assert isinstance(answer, ActionResponse) and answer.result == 0
    get = GetRequest(EVENT_LOG_ENTRIES).encode()
    read = meter.call(seal(get, 4))
    assert read[0] == 0xCC  # glo-get-response
    got = open_(read)
    assert isinstance(got, GetResponse) and isinstance(got.result, Data)
    replayed = decode_xdlms(meter.call(seal(get, 4)))
    assert isinstance(replayed, ExceptionResponse) and replayed.service_error == 5
    wrong = protect(get, key=bytes(16), auth_key=ak, system_title=CLIENT_TITLE,
                    invocation_counter=9)
    refused = decode_xdlms(meter.call(wrong))
    assert isinstance(refused, ExceptionResponse) and refused.service_error == 5


def test_keys_are_the_meters_own_and_given_to_emulator_secrets(
        registers: DeviceRegisters) -> None:
    keys = meter_keys(registers.device)
    assert (keys.encryption_key, keys.authentication_key, keys.system_title) == (
        registers.dlms_keys.encryption_key, registers.dlms_keys.authentication_key,
        registers.dlms_keys.system_title)
    assert keys.encryption_key != keys.authentication_key
    assert keys.system_title[:3] == registers.device.model.optical_flag.encode()
    assert keys.secret("dlms_encryption_key") == keys.encryption_key.hex().upper()
    assert keys.secret("dlms_authentication_key") == keys.authentication_key.hex().upper()
    assert keys.secret("optical_password") is None
    assert keys.encryption_key.hex() not in repr(keys)


def test_the_emulated_dlms_bench_gives_its_esme_keys_to_emulator_secrets() -> None:
    """benches/emulated-dlms.toml names both keys: its ESME slot's dlms profile uses HLS."""
    config = load_bench(default_bench_path().parent / "emulated-dlms.toml")
    slot = config.slots["esme"]
    assert slot.profile == "dlms"
    assert {"dlms_encryption_key", "dlms_authentication_key"} <= set(slot.secrets)
    bench = EmulatedBench(config)
    device = create_device("esme", slot.device_type, slot.emulation.model,
                           seed=slot.emulation.seed)
    bench.devices["esme"] = device
    served = registers_for_device(device).dlms_keys  # what its optical port checks against
    assert bench.secret("esme", "dlms_encryption_key") == served.encryption_key.hex().upper()
    assert bench.secret("esme", "dlms_authentication_key") == \
        served.authentication_key.hex().upper()
