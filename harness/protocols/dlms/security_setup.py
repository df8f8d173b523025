"""The Security setup interface class (class 64, version 1, Blue Book 4.4.7) as COSEM data.

Attribute 6 ``certificates`` is an array of certificate-info structures (entity, type, serial
number, issuer, subject, subject alt name); methods 7 export_certificate and 8
remove_certificate take a certificate identification, by entity (entity, type, system title)
or by serial (serial number, issuer); export answers with the certificate's DER as an octet
string. Also the reply_to_HLS_authentication parameter of the Association LN object (class 15,
method 1). Pure: Data in, Data out; bad shapes are XdlmsError naming the field.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from harness.protocols.dlms.axdr import Data, DataType
from harness.protocols.dlms.errors import XdlmsError
from harness.protocols.dlms.obis import Obis

__all__ = ["ASSOCIATION_LN", "ASSOCIATION_LN_CLASS", "EXPORT_CERTIFICATE",
           "REMOVE_CERTIFICATE", "REPLY_TO_HLS", "SECURITY_SETUP", "SECURITY_SETUP_CLASS",
           "CertificateEntity", "CertificateInfo", "CertificateType", "SecurityPolicy",
           "by_entity", "by_serial", "parse_identification"]

SECURITY_SETUP_CLASS = 64
SECURITY_SETUP = Obis.parse("0.0.43.0.0.255")
"""The Security setup object of the management association (Blue Book: 0.0.43.0.e.255)."""
ASSOCIATION_LN_CLASS = 15
ASSOCIATION_LN = Obis.parse("0.0.40.0.0.255")
"""The current association (Association LN, class 15)."""
REPLY_TO_HLS = 1
"""Association LN method 1: reply_to_HLS_authentication (octet-string f(StoC) in and
f(CtoS) out)."""
EXPORT_CERTIFICATE, REMOVE_CERTIFICATE = 7, 8


class SecurityPolicy(enum.IntFlag):
    """Attribute 2 of class 64 version 1 (bit-mapped)."""

    AUTHENTICATED_REQUEST = 0x04
    ENCRYPTED_REQUEST = 0x08
    DIGITALLY_SIGNED_REQUEST = 0x10
    AUTHENTICATED_RESPONSE = 0x20
    ENCRYPTED_RESPONSE = 0x40
    DIGITALLY_SIGNED_RESPONSE = 0x80


class CertificateEntity(enum.IntEnum):
    """certificate_entity: whose certificate it is."""

    SERVER = 0
    CLIENT = 1
    CERTIFICATION_AUTHORITY = 2
    OTHER = 3


class CertificateType(enum.IntEnum):
    """certificate_type: what its key is for."""

    DIGITAL_SIGNATURE = 0
    KEY_AGREEMENT = 1
    TLS = 2
    OTHER = 3


def _octets(value: Data, what: str) -> bytes:
    if value.type is not DataType.OCTET_STRING:
        raise XdlmsError(f"security setup: {what} is a {value.type.name.lower()}",
                         expected="an octet-string")
    return bytes(value.value)


def _enum(value: Data, kind: type[enum.IntEnum], what: str) -> int:
    if value.type is not DataType.ENUM:
        raise XdlmsError(f"security setup: {what} is a {value.type.name.lower()}",
                         expected="an enum")
    try:
        return kind(value.value)
    except ValueError:
        return int(value.value)


def _fields(value: Data, count: int, what: str) -> tuple[Data, ...]:
    if value.type is not DataType.STRUCTURE or len(value.value) != count:
        raise XdlmsError(f"security setup: {what} is not a structure of {count}",
                         expected=f"structure {{{count} fields}}")
    return tuple(value.value)


@dataclass(frozen=True)
class CertificateInfo:
    """One element of attribute 6: issuer, subject and alt name are the texts meters hold
    (the subject as an RFC 4514 string here), the serial number its big-endian octets."""

    entity: CertificateEntity | int
    type: CertificateType | int
    serial_number: bytes
    issuer: bytes
    subject: bytes
    subject_alt_name: bytes = b""

    def to_data(self) -> Data:
        """The certificate_info structure."""
        return Data.structure(
            Data(DataType.ENUM, int(self.entity)), Data(DataType.ENUM, int(self.type)),
            *(Data(DataType.OCTET_STRING, v) for v in (self.serial_number, self.issuer,
                                                        self.subject, self.subject_alt_name)))

    @classmethod
    def from_data(cls, value: Data) -> CertificateInfo:
        """Parse one certificate_info structure."""
        entity, kind, serial, issuer, subject, alt = _fields(value, 6, "certificate_info")
        return cls(_enum(entity, CertificateEntity, "certificate_entity"),
                   _enum(kind, CertificateType, "certificate_type"),
                   _octets(serial, "serial_number"), _octets(issuer, "issuer"),
                   _octets(subject, "subject"), _octets(alt, "subject_alt_name"))

    @classmethod
    def list_from(cls, value: Data) -> tuple[CertificateInfo, ...]:
        """Parse attribute 6 (an array of certificate_info)."""
        if value.type is not DataType.ARRAY:
            raise XdlmsError(f"security setup: certificates is a {value.type.name.lower()}",
                             expected="an array of certificate_info")
        return tuple(cls.from_data(item) for item in value.value)


def by_entity(entity: CertificateEntity | int, kind: CertificateType | int,
              system_title: bytes) -> Data:
    """export/remove_certificate parameter identifying a certificate by entity (type 0)."""
    return Data.structure(Data(DataType.ENUM, 0), Data.structure(
        Data(DataType.ENUM, int(entity)), Data(DataType.ENUM, int(kind)),
        Data(DataType.OCTET_STRING, system_title)))


def by_serial(serial_number: bytes, issuer: bytes) -> Data:
    """export/remove_certificate parameter identifying a certificate by serial (type 1)."""
    return Data.structure(Data(DataType.ENUM, 1), Data.structure(
        Data(DataType.OCTET_STRING, serial_number), Data(DataType.OCTET_STRING, issuer)))


def parse_identification(value: Data | None) -> tuple[str, tuple[int | bytes, ...]]:
    """A certificate identification: ``("entity", (entity, type, system title))`` or
    ``("serial", (serial number, issuer))``."""
    if value is None:
        raise XdlmsError("security setup: no certificate identification",
                         expected="structure {identification type, options}")
    how, options = _fields(value, 2, "certificate identification")
    if how.type is DataType.ENUM and how.value == 0:
        entity, kind, title = _fields(options, 3, "identification by entity")
        return "entity", (_enum(entity, CertificateEntity, "certificate_entity"),
                          _enum(kind, CertificateType, "certificate_type"),
                          _octets(title, "system_title"))
    if how.type is DataType.ENUM and how.value == 1:
        serial, issuer = _fields(options, 2, "identification by serial")
        return "serial", (_octets(serial, "serial_number"), _octets(issuer, "issuer"))
    raise XdlmsError(f"security setup: certificate identification type {how.value!r}",
                     expected="enum 0 (by entity) or 1 (by serial)")
