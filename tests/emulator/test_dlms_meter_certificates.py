"""The emulated meter's Security setup object (class 64): its system titles and suite, the
certificates it really holds (its own and each anchor slot's), exported as DER that digests
to the anchors' SubjectPublicKeyInfo SHA-256; unknown certificates and the public client
refused."""

from __future__ import annotations

import hashlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from harness.domain.types import RemotePartyRole
from harness.emulator.optical.device_registers import DeviceRegisters, registers_for_device
from harness.emulator.optical.engine import MeterPortEngine
from harness.emulator.world.clock import ManualClock
from harness.emulator.world.models import create_device
from harness.protocols.dlms import (
    ActionRequest,
    ActionResponse,
    Control,
    Data,
    DataType,
    FrameKind,
    HdlcAddress,
    HdlcFrame,
    MethodDescriptor,
    Obis,
    decode_xdlms,
)
from harness.protocols.dlms.security_setup import (
    CertificateEntity,
    CertificateInfo,
    CertificateType,
    by_entity,
    by_serial,
)
from tests.emulator.test_dlms_meter_port import Meter

SETUP = "0.0.43.0.0.255"
EXPORT = MethodDescriptor(64, Obis.parse(SETUP), 7)


@pytest.fixture
def registers() -> DeviceRegisters:
    clock = ManualClock()
    device = create_device("esme", "ESME", clock=clock, seed=9)
    device.supply(230.0)
    clock.advance(5)
    device.commission_with_consumer_data(days=1)
    return registers_for_device(device)


@pytest.fixture
def meter(registers: DeviceRegisters) -> Meter:
    meter = Meter(MeterPortEngine(registers, registers.device.clock), client=0x01)
    meter.connect()
    meter.associate(registers.password)
    return meter


def export(meter: Meter, identification: Data) -> ActionResponse:
    answer = decode_xdlms(meter.call(ActionRequest(EXPORT, identification).encode()))
    assert isinstance(answer, ActionResponse)
    return answer


def spki(der: bytes) -> str:
    key = x509.load_der_x509_certificate(der).public_key()
    return hashlib.sha256(key.public_bytes(serialization.Encoding.DER,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
                          ).hexdigest().upper()


def test_attributes_and_the_certificates_held(meter: Meter, registers: DeviceRegisters) -> None:
    device = registers.device
    assert meter.get(64, SETUP, 3) == Data(DataType.ENUM, 0)  # AES-GCM-128
    assert meter.get(64, SETUP, 5) == Data(DataType.OCTET_STRING,
                                           registers.dlms_keys.system_title)
    listed = meter.get(64, SETUP, 6)
    assert isinstance(listed, Data)
    infos = CertificateInfo.list_from(listed)
    own = [i for i in infos if i.entity == CertificateEntity.SERVER]
    assert {i.type for i in own} == {CertificateType.DIGITAL_SIGNATURE,
                                     CertificateType.KEY_AGREEMENT}
    anchors = {r: f for r, f in device.anchor_fingerprints().items() if f is not None}
    assert len(infos) == len(own) + len(anchors)
    exported = {}
    for info in infos:
        if info.entity == CertificateEntity.SERVER:
            continue
        answer = export(meter, by_serial(info.serial_number, info.issuer))
        assert answer.result == 0 and isinstance(answer.data, Data)
        cert = x509.load_der_x509_certificate(answer.data.value)
        assert int.from_bytes(info.serial_number, "big") == cert.serial_number
        ou = cert.subject.get_attributes_for_oid(x509.NameOID.ORGANIZATIONAL_UNIT_NAME)
        role = RemotePartyRole(int(str(ou[0].value), 16))
        assert (info.entity == CertificateEntity.CERTIFICATION_AUTHORITY) == (
            role is RemotePartyRole.ROOT)
        assert info.subject.decode() in cert.subject.rfc4514_string().replace("(", "")
        exported[role] = spki(answer.data.value)
    assert exported == anchors  # the same digests the catalogue's original_anchors hold


def test_export_by_entity_and_refusals(meter: Meter, registers: DeviceRegisters) -> None:
    own = registers.device.device_credentials()
    title = registers.dlms_keys.system_title
    answer = export(meter, by_entity(CertificateEntity.SERVER, CertificateType.KEY_AGREEMENT,
                                     title))
    assert answer.result == 0 and isinstance(answer.data, Data)
    assert answer.data.value == own.key_agreement.certificate.public_bytes(
        serialization.Encoding.DER)
    assert export(meter, by_serial(b"\x00", b"CN=nobody")).result == 11  # object-unavailable
    assert export(meter, Data(DataType.ENUM, 0)).result == 12  # type-unmatched
    meter.send(HdlcFrame(HdlcAddress(1), meter.client, Control(FrameKind.DISC)))
    public = Meter(meter.engine, client=0x10)
    public.connect()
    public.associate()
    assert public.get(64, SETUP, 6) == 3  # read-write-denied for the public client
