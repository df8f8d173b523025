"""The Security setup (class 64 version 1) data shapes: certificate_info round trips, the
certificate identification of export/remove_certificate, bad shapes named."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.protocols.dlms import Data, DataType, XdlmsError, decode_data, encode_data
from harness.protocols.dlms.security_setup import (
    CertificateEntity,
    CertificateInfo,
    CertificateType,
    by_entity,
    by_serial,
    parse_identification,
)


def test_certificate_info_wire_form() -> None:
    info = CertificateInfo(CertificateEntity.CERTIFICATION_AUTHORITY,
                           CertificateType.DIGITAL_SIGNATURE, b"\x01\x02", b"CN=CA", b"CN=X")
    wire = encode_data(info.to_data())
    # structure of 6: enum 2, enum 0, then four octet-strings (the last empty)
    assert wire == bytes.fromhex("0206" "1602" "1600" "09020102" "0905") + b"CN=CA" + \
        bytes.fromhex("0904") + b"CN=X" + bytes.fromhex("0900")
    assert CertificateInfo.from_data(decode_data(wire)) == info
    assert CertificateInfo.list_from(Data.array(info.to_data(), info.to_data())) == (info, info)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 255), st.integers(0, 255), st.binary(max_size=20), st.binary(max_size=40),
       st.binary(max_size=40), st.binary(max_size=20))
def test_certificate_info_round_trips(entity: int, kind: int, serial: bytes, issuer: bytes,
                                      subject: bytes, alt: bytes) -> None:
    info = CertificateInfo(entity, kind, serial, issuer, subject, alt)
    assert CertificateInfo.from_data(decode_data(encode_data(info.to_data()))) == info


def test_identifications() -> None:
    title = bytes.fromhex("4D4D4D0000BC614E")
    wire = encode_data(by_entity(CertificateEntity.SERVER, CertificateType.KEY_AGREEMENT, title))
    assert wire == bytes.fromhex("020216000203160016010908") + title
    assert parse_identification(by_entity(0, 1, title)) == ("entity", (0, 1, title))
    assert parse_identification(by_serial(b"\x07", b"CN=CA")) == ("serial", (b"\x07", b"CN=CA"))


@pytest.mark.parametrize(("value", "message"), [
    (None, "no certificate identification"),
    (Data.structure(Data(DataType.ENUM, 2), Data.structure()), "identification type 2"),
    (Data.structure(Data(DataType.ENUM, 1), Data.structure(Data(DataType.OCTET_STRING, b"")),
                    ), "by serial is not a structure of 2"),
    (Data.structure(Data(DataType.ENUM, 1), Data.structure(
        Data(DataType.VISIBLE_STRING, "7"), Data(DataType.OCTET_STRING, b""))),
     "serial_number is a visible_string"),
])
def test_bad_identifications(value: Data | None, message: str) -> None:
    with pytest.raises(XdlmsError, match=message):
        parse_identification(value)


def test_bad_certificate_lists() -> None:
    with pytest.raises(XdlmsError, match="certificates is a structure"):
        CertificateInfo.list_from(Data.structure())
    with pytest.raises(XdlmsError, match="certificate_entity is a unsigned"):
        CertificateInfo.from_data(Data.structure(Data(DataType.UNSIGNED, 0),
                                                 *[Data(DataType.ENUM, 0)] * 5))
