"""The deterministic test PKI: roles and EUI-64s in names, chains, determinism, signatures."""

from __future__ import annotations

import datetime
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import NameOID

from harness.domain.types import RemotePartyRole
from harness.emulator.world.pki import (
    Party,
    TestPki,
    certificate_eui64,
    certificate_role,
    verify_signature,
    verify_signed_by,
)

DEVICE = "00-0D-6F-00-00-00-12-34"
ORG_ROLES = [
    r for r in RemotePartyRole if r not in (RemotePartyRole.ROOT, RemotePartyRole.ISSUING_AUTHORITY)
]


@pytest.fixture(scope="module")
def pki() -> TestPki:
    """One PKI for the module: certificates are cached, so tests stay fast."""
    return TestPki()


@pytest.mark.parametrize("role", list(RemotePartyRole))
def test_role_round_trips_through_the_ou(pki: TestPki, role: RemotePartyRole) -> None:
    party = pki.trust_anchor(role)
    assert party.role is role
    ous = party.certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)
    assert [a.value for a in ous] == [role.ou]
    assert certificate_role(party.certificate) is role


def test_device_certificates_have_no_role(pki: TestPki) -> None:
    creds = pki.device_credentials(DEVICE)
    assert certificate_role(creds.digital_signing.certificate) is None
    assert creds.digital_signing.role is None


def test_eui64_round_trips_as_a_bit_string(pki: TestPki) -> None:
    party = pki.organisation(RemotePartyRole.NETWORK_OPERATOR, "0a:0b:0c:0d:0e:0f:10:11")
    assert party.eui64 == "0A0B0C0D0E0F1011"
    assert certificate_eui64(party.certificate) == "0A0B0C0D0E0F1011"
    der = party.certificate.public_bytes(serialization.Encoding.DER)
    reloaded = x509.load_der_x509_certificate(der)
    assert certificate_eui64(reloaded) == "0A0B0C0D0E0F1011"
    # GBCS form: BIT STRING, tag 03, 9 content octets (0 unused bits, then the 8 bytes).
    assert bytes.fromhex("0309000A0B0C0D0E0F1011") in der
    creds = pki.device_credentials(DEVICE)
    assert creds.eui64 == "000D6F0000001234"
    assert certificate_eui64(creds.key_agreement.certificate) == "000D6F0000001234"


def test_certificate_eui64_also_reads_text_and_tolerates_absence(pki: TestPki) -> None:
    key = pki.root.private_key
    now = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)

    def cert(name: x509.Name) -> x509.Certificate:
        return (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(1)
            .not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256())
        )

    text = x509.Name(
        [
            x509.NameAttribute(
                NameOID.X500_UNIQUE_IDENTIFIER, "90b3d51f30010000", _type=_ASN1Type.UTF8String
            )
        ]
    )
    assert certificate_eui64(cert(text)) == "90B3D51F30010000"
    bare = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, "x"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "zz"),
        ]
    )
    assert certificate_eui64(cert(bare)) is None
    assert certificate_role(cert(bare)) is None


def test_supplier_default_eui64_is_zaz1s(pki: TestPki) -> None:
    assert pki.organisation(RemotePartyRole.SUPPLIER).eui64 == "90B3D51F30010000"
    assert pki.trust_anchor(RemotePartyRole.SUPPLIER).eui64 == "90B3D51F30010000"


def test_default_eui64s_are_distinct_per_role(pki: TestPki) -> None:
    euis = {pki.default_eui64(role) for role in RemotePartyRole}
    assert len(euis) == len(RemotePartyRole)


def test_chain_verifies(pki: TestPki) -> None:
    root, ca = pki.root, pki.issuing_ca
    assert verify_signed_by(root.certificate, root.certificate)
    assert verify_signed_by(ca.certificate, root.certificate)
    for role in ORG_ROLES:
        assert verify_signed_by(pki.organisation(role).certificate, ca.certificate)
    creds = pki.device_credentials(DEVICE)
    for party in (creds.digital_signing, creds.key_agreement):
        assert verify_signed_by(party.certificate, ca.certificate)
        assert not verify_signed_by(party.certificate, root.certificate)
    for cert in (root.certificate, ca.certificate):
        assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert certificate_role(ca.certificate) is RemotePartyRole.ISSUING_AUTHORITY


def test_chain_rejects_a_foreign_issuer(pki: TestPki) -> None:
    other = TestPki(seed=1)
    supplier = pki.organisation(RemotePartyRole.SUPPLIER)
    # Another seed's Issuing CA has the same name but another key; a root variant, another name.
    assert not verify_signed_by(supplier.certificate, other.issuing_ca.certificate)
    assert not verify_signed_by(
        pki.issuing_ca.certificate, pki.trust_anchor(RemotePartyRole.ROOT, 1).certificate
    )


def test_same_seed_gives_same_keys() -> None:
    a, b = TestPki(seed=5), TestPki(seed=5)
    assert a.root.spki_fingerprint() == b.root.spki_fingerprint()
    assert a.issuing_ca.spki_fingerprint() == b.issuing_ca.spki_fingerprint()
    for role in RemotePartyRole:
        assert (
            a.trust_anchor(role, 2).spki_fingerprint() == b.trust_anchor(role, 2).spki_fingerprint()
        )
    da, db = a.device_credentials(DEVICE), b.device_credentials(DEVICE)
    assert da.digital_signing.spki_fingerprint() == db.digital_signing.spki_fingerprint()
    assert da.key_agreement.spki_fingerprint() == db.key_agreement.spki_fingerprint()
    assert (
        da.digital_signing.certificate.serial_number == db.digital_signing.certificate.serial_number
    )


def test_different_seeds_differ() -> None:
    a, b = TestPki(seed=5), TestPki(seed=6)
    assert a.root.spki_fingerprint() != b.root.spki_fingerprint()
    sa = a.organisation(RemotePartyRole.SUPPLIER, "90B3D51F30010000")
    sb = b.organisation(RemotePartyRole.SUPPLIER, "90B3D51F30010000")
    assert sa.spki_fingerprint() != sb.spki_fingerprint()
    assert (
        a.device_credentials(DEVICE).digital_signing.spki_fingerprint()
        != b.device_credentials(DEVICE).digital_signing.spki_fingerprint()
    )


@pytest.mark.parametrize("role", list(RemotePartyRole))
def test_variants_differ(pki: TestPki, role: RemotePartyRole) -> None:
    anchors = [pki.trust_anchor(role, v) for v in range(3)]
    assert len({a.spki_fingerprint() for a in anchors}) == 3
    assert len({a.eui64 for a in anchors}) == 3
    assert all(certificate_role(a.certificate) is role for a in anchors)
    if role is RemotePartyRole.ROOT:
        assert anchors[0] is pki.root
        for a in anchors[1:]:
            assert verify_signed_by(a.certificate, a.certificate)
            assert not verify_signed_by(a.certificate, pki.root.certificate)
    elif role is not RemotePartyRole.ISSUING_AUTHORITY:
        assert anchors[0] is pki.organisation(role)
        assert all(verify_signed_by(a.certificate, pki.issuing_ca.certificate) for a in anchors)


def test_variant_out_of_range(pki: TestPki) -> None:
    with pytest.raises(ValueError):
        pki.trust_anchor(RemotePartyRole.SUPPLIER, 256)


def test_device_key_usages(pki: TestPki) -> None:
    creds = pki.device_credentials(DEVICE)
    ds = creds.digital_signing.certificate.extensions.get_extension_for_class(x509.KeyUsage)
    ka = creds.key_agreement.certificate.extensions.get_extension_for_class(x509.KeyUsage)
    assert ds.critical and ka.critical
    assert ds.value.digital_signature and not ds.value.key_agreement
    assert ka.value.key_agreement and not ka.value.digital_signature
    assert creds.digital_signing.spki_fingerprint() != creds.key_agreement.spki_fingerprint()
    assert not creds.digital_signing.certificate.subject.get_attributes_for_oid(
        NameOID.ORGANIZATIONAL_UNIT_NAME
    )


def test_organisation_key_usage_and_name(pki: TestPki) -> None:
    wan = pki.organisation(RemotePartyRole.WAN_PROVIDER)
    ku = wan.certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    assert ku.digital_signature and not ku.key_agreement and not ku.key_cert_sign
    cn = wan.certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert cn == "WAN_PROVIDER"
    named = pki.organisation(RemotePartyRole.SUPPLIER, "90B3D51F300100AA", name="Acme Energy")
    assert named.certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == (
        "Acme Energy"
    )
    with pytest.raises(ValueError):
        pki.organisation(RemotePartyRole.SUPPLIER, "90B3D51F300100AA", name="Other Energy")
    with pytest.raises(ValueError):
        pki.organisation(RemotePartyRole.ROOT, "0000000000000001")
    assert pki.organisation(RemotePartyRole.ROOT) is pki.root


def test_caching(pki: TestPki) -> None:
    assert pki.root is pki.root
    assert pki.organisation(RemotePartyRole.SUPPLIER) is pki.organisation(
        RemotePartyRole.SUPPLIER, "90-B3-D5-1F-30-01-00-00"
    )
    assert pki.device_credentials(DEVICE) is pki.device_credentials("000d6f0000001234")


def test_sign_and_verify(pki: TestPki) -> None:
    supplier = pki.organisation(RemotePartyRole.SUPPLIER)
    other = pki.organisation(RemotePartyRole.NETWORK_OPERATOR)
    signature = supplier.sign(b"GBCS command")
    assert verify_signature(supplier.certificate, b"GBCS command", signature)
    assert not verify_signature(supplier.certificate, b"GBCS commanD", signature)
    assert not verify_signature(other.certificate, b"GBCS command", signature)
    assert not verify_signature(supplier.certificate, b"GBCS command", b"not DER")
    assert verify_signature(other.certificate, b"x", other.sign(b"x"))


def test_repr_has_no_key_material(pki: TestPki) -> None:
    creds = pki.device_credentials(DEVICE)
    key = creds.digital_signing.private_key
    scalar = key.private_numbers().private_value
    text = repr(creds) + repr(pki.root) + repr(pki)
    assert "private_key" not in text
    assert str(scalar) not in text and f"{scalar:x}" not in text.lower()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    assert pem.splitlines()[1] not in text


def test_pem_and_validity(pki: TestPki) -> None:
    party: Party = pki.issuing_ca
    assert party.pem().startswith(b"-----BEGIN CERTIFICATE-----")
    assert x509.load_pem_x509_certificate(party.pem()) == party.certificate
    cert = party.certificate
    assert cert.not_valid_before_utc == datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    assert cert.not_valid_after_utc == datetime.datetime(2050, 1, 1, tzinfo=datetime.UTC)
    late = TestPki(not_before=datetime.datetime(2024, 2, 29))
    assert late.root.certificate.not_valid_after_utc.date() == datetime.date(2054, 2, 28)


def test_population_is_lazy_and_cheap() -> None:
    pki = TestPki(seed=9)
    pki.issuing_ca  # noqa: B018 - warm the CAs
    start = time.perf_counter()
    for n in range(50):
        pki.device_credentials(f"{n:016X}")
    per_device = (time.perf_counter() - start) / 50
    assert per_device < 0.05  # a few ms normally; generous for slow CI
    assert len(pki._devices) == 50
