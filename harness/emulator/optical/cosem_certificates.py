"""The emulated meter's Security setup object (class 64, version 1) with its real certificates.

Attributes: security_policy (0: the management association authenticates with HLS; a
ciphered context protects every APDU all the same), security_suite 0 (AES-GCM-128), the
client system title of the last secured association, the meter's own system title, and
``certificates``: the meter's own Digital Signing and Key Agreement certificates (entity
server) and the certificate in each trust anchor slot (entity certification authority for
Root, other for the remote parties), all issued by the emulator's test PKI, so the subject's
OU names each anchor's GBCS role and the DER's SubjectPublicKeyInfo gives the same SHA-256
as harness/triage/models.yaml's ``original_anchors``. Method 7 export_certificate answers
with a certificate's DER (identified by serial and issuer, or by entity, type and system
title: the meter's own title for its certificates, the party's EUI-64 for an anchor).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from harness.domain.types import RemotePartyRole
from harness.emulator.optical.cosem_model import AccessError, CosemAttribute, CosemObject
from harness.emulator.optical.registers import RegisterError
from harness.errors import MeterbenchError, ProtocolError
from harness.protocols.dlms import Data, DataType, SelectiveAccess
from harness.protocols.dlms.security_setup import (
    EXPORT_CERTIFICATE,
    SECURITY_SETUP,
    SECURITY_SETUP_CLASS,
    CertificateEntity,
    CertificateInfo,
    CertificateType,
    parse_identification,
)

if TYPE_CHECKING:
    from harness.emulator.optical.cosem_security import MeterKeys
    from harness.emulator.world.device import EmulatedDevice

T = TypeVar("T")
_CA_ROLES = frozenset({RemotePartyRole.ROOT, RemotePartyRole.ISSUING_AUTHORITY})


def text_of(name: x509.Name) -> str:
    """A distinguished name as the meter holds it: RFC 4514, without parentheses (the mode C
    register map's form, so both routes report the same subject)."""
    return name.rfc4514_string().replace("(", "").replace(")", "")


def _eui64(cert: x509.Certificate) -> bytes:
    """The EUI-64 in x500UniqueIdentifier (a BIT STRING: unused-bits octet, then 8 bytes)."""
    for attribute in cert.subject.get_attributes_for_oid(x509.NameOID.X500_UNIQUE_IDENTIFIER):
        value = attribute.value
        if isinstance(value, bytes) and len(value) >= 8:
            return value[-8:]
    return b""


def _info(cert: x509.Certificate, entity: CertificateEntity,
          kind: CertificateType) -> CertificateInfo:
    size = max(1, (cert.serial_number.bit_length() + 7) // 8)
    return CertificateInfo(entity, kind, cert.serial_number.to_bytes(size, "big"),
                           text_of(cert.issuer).encode(), text_of(cert.subject).encode())


def _device(read: Callable[[], T]) -> T:
    """Ask the device; its failures become the meter's refusal (as the mode C map's)."""
    try:
        return read()
    except MeterbenchError as exc:
        raise RegisterError("ER-FAIL") from exc


class SecuritySetup:
    """Class 64 over one emulated device and its keys."""

    def __init__(self, device: EmulatedDevice, keys: MeterKeys) -> None:
        self.device = device
        self.keys = keys

    def entries(self) -> list[tuple[CertificateInfo, x509.Certificate, bytes]]:
        """(certificate_info, certificate, system title or EUI-64) of everything held now."""
        own = _device(self.device.device_credentials)
        held = [(_info(own.digital_signing.certificate, CertificateEntity.SERVER,
                       CertificateType.DIGITAL_SIGNATURE), own.digital_signing.certificate,
                 self.keys.system_title),
                (_info(own.key_agreement.certificate, CertificateEntity.SERVER,
                       CertificateType.KEY_AGREEMENT), own.key_agreement.certificate,
                 self.keys.system_title)]
        for role, party in _device(self.device.trust_anchors).items():
            if party is None:
                continue  # an empty anchor slot holds no certificate
            entity = (CertificateEntity.CERTIFICATION_AUTHORITY if role in _CA_ROLES
                      else CertificateEntity.OTHER)
            cert = party.certificate
            held.append((_info(cert, entity, CertificateType.DIGITAL_SIGNATURE), cert,
                         _eui64(cert)))
        return held

    def certificates(self, _access: SelectiveAccess | None) -> Data:
        """Attribute 6: the array of certificate_info."""
        return Data.array(*(info.to_data() for info, _cert, _title in self.entries()))

    def export(self, parameters: Data | None) -> Data:
        """Method 7: the identified certificate's DER; object-unavailable if none matches."""
        try:
            how, key = parse_identification(parameters)
        except ProtocolError:
            raise AccessError(12) from None  # type-unmatched
        for info, cert, title in self.entries():
            if how == "serial":
                found = (info.serial_number, info.issuer) == key
            else:
                found = (int(info.entity), int(info.type), title) == key
            if found:
                return Data(DataType.OCTET_STRING, cert.public_bytes(serialization.Encoding.DER))
        raise AccessError(11)  # object-unavailable: no such certificate

    def cosem_object(self) -> CosemObject:
        """The Security setup object 0.0.43.0.0.255."""
        keys = self.keys
        return CosemObject(SECURITY_SETUP_CLASS, SECURITY_SETUP, {
            2: CosemAttribute(lambda _a: Data(DataType.ENUM, 0)),  # security_policy
            3: CosemAttribute(lambda _a: Data(DataType.ENUM, 0)),  # suite 0: AES-GCM-128
            4: CosemAttribute(lambda _a: Data(DataType.OCTET_STRING, keys.client_title)),
            5: CosemAttribute(lambda _a: Data(DataType.OCTET_STRING, keys.system_title)),
            6: CosemAttribute(self.certificates),
        }, {EXPORT_CERTIFICATE: self.export})
