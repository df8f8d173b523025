"""Signing and verification: round trip, and each kind of bad signature gets its own code."""

from __future__ import annotations

import pickle

import pytest
from duis_testdata import reference_bytes
from lxml import etree

from harness.emulator.world.pki import Party
from harness.protocols.duis import (
    DS,
    NS,
    DuisError,
    DuisSignatureError,
    RequestId,
    build_request,
    codes,
    decommission_device,
    parse_request,
    read_inventory,
    sign,
    verify,
)

REQUEST = read_inventory(RequestId("90B3D51F30010000", "90B3D51F30000002", 42),
                         "00DB1234567890A0")


@pytest.fixture(scope="module")
def signed(supplier: Party) -> bytes:
    """REQUEST signed by the supplier."""
    return sign(build_request(REQUEST), supplier.private_key, supplier.certificate)


def _rewrite(xml: bytes, change) -> bytes:
    """Apply ``change(root)`` to a parsed copy and serialise it again."""
    root = etree.fromstring(xml)
    change(root)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def test_sign_then_verify_returns_signer(signed: bytes, supplier: Party,
                                         other_party: Party) -> None:
    """The signer's certificate is found among the trusted ones by issuer and serial."""
    cert = verify(signed, [other_party.certificate, supplier.certificate])
    assert cert == supplier.certificate
    assert parse_request(signed) == REQUEST  # the signature does not disturb parsing
    assert verify(signed, [supplier.certificate], relaxed=True) == supplier.certificate


def test_signature_has_duis_profile(signed: bytes, supplier: Party) -> None:
    """ECDSA-SHA256, exclusive c14n, SHA-256, enveloped, X509IssuerSerial; after sr:Body."""
    root = etree.fromstring(signed)
    assert [etree.QName(c).localname for c in root] == ["Header", "Body", "Signature"]
    ns = {"ds": DS}
    algorithms = root.xpath("//ds:SignedInfo//@Algorithm", namespaces=ns)
    assert algorithms == [
        "http://www.w3.org/2001/10/xml-exc-c14n#",
        "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
        "http://www.w3.org/2000/09/xmldsig#enveloped-signature",
        "http://www.w3.org/2001/04/xmlenc#sha256",
    ]
    assert root.xpath("//ds:Reference/@URI", namespaces=ns) == [""]
    serial = root.xpath("//ds:X509SerialNumber/text()", namespaces=ns)
    assert serial == [str(supplier.certificate.serial_number)]
    assert not root.xpath("//ds:X509Certificate", namespaces=ns)


def test_tampered_element_is_rejected(signed: bytes, supplier: Party) -> None:
    """Changing the body's DeviceID after signing breaks the digest (EMB11)."""
    tampered = _rewrite(signed, lambda root: root.find(
        f".//{{{NS}}}DeviceID").__setattr__("text", "00-DB-12-34-56-78-90-FF"))
    assert parse_request(tampered).body["DeviceID"] == "00-DB-12-34-56-78-90-FF"
    with pytest.raises(DuisSignatureError) as caught:
        verify(tampered, [supplier.certificate])
    assert caught.value.response_code == codes.SIGNATURE_INVALID
    assert caught.value.path == "/sr:Request/ds:Signature/ds:SignatureValue"


def test_tampered_header_is_rejected(signed: bytes, supplier: Party) -> None:
    """The header is signed too: another counter fails."""
    tampered = signed.replace(b":42</sr:RequestID>", b":43</sr:RequestID>")
    assert tampered != signed
    with pytest.raises(DuisSignatureError) as caught:
        verify(tampered, [supplier.certificate], relaxed=True)
    assert caught.value.response_code == codes.SIGNATURE_INVALID


def test_wrong_key_is_rejected(supplier: Party, other_party: Party) -> None:
    """Signed with another party's key while naming the supplier's certificate: EMB11."""
    forged = sign(build_request(REQUEST), other_party.private_key, other_party.certificate)

    def claim_supplier(root: etree._Element) -> None:
        root.find(f".//{{{DS}}}X509IssuerName").text = supplier.certificate.issuer.rfc4514_string()
        root.find(f".//{{{DS}}}X509SerialNumber").text = str(supplier.certificate.serial_number)

    forged = _rewrite(forged, claim_supplier)
    with pytest.raises(DuisSignatureError) as caught:
        verify(forged, [supplier.certificate, other_party.certificate])
    assert caught.value.response_code == codes.SIGNATURE_INVALID
    assert "does not verify" in caught.value.message


def test_untrusted_signer_is_rejected(signed: bytes, other_party: Party) -> None:
    """A good signature by a certificate not in the trusted set: EMB12, located at the serial."""
    with pytest.raises(DuisSignatureError) as caught:
        verify(signed, [other_party.certificate])
    assert caught.value.response_code == codes.SIGNER_UNKNOWN
    assert caught.value.path == "/sr:Request/ds:Signature/ds:KeyInfo/ds:X509Data/" \
        "ds:X509IssuerSerial"


@pytest.mark.parametrize("relaxed", [False, True])
def test_removed_signature_is_rejected(signed: bytes, supplier: Party, relaxed: bool) -> None:
    """No signature is an error even when relaxed (EMB10)."""
    stripped = _rewrite(signed, lambda root: root.remove(root.find(f"{{{DS}}}Signature")))
    with pytest.raises(DuisSignatureError) as caught:
        verify(stripped, [supplier.certificate], relaxed=relaxed)
    assert caught.value.response_code == codes.SIGNATURE_MISSING
    assert caught.value.path == "/sr:Request/ds:Signature"
    with pytest.raises(DuisSignatureError):
        verify(build_request(REQUEST), [supplier.certificate], relaxed=relaxed)


def test_relaxed_still_checks_structure(supplier: Party) -> None:
    """Relaxed accepts placeholders only: a wrong algorithm in a reference file is refused."""
    data = reference_bytes("8.2_READ_INVENTORY_REQUEST_DUIS.XML").replace(
        b"xmldsig-more#ecdsa-sha256", b"xmldsig-more#rsa-sha256")
    with pytest.raises(DuisSignatureError) as caught:
        verify(data, [], relaxed=True)
    assert caught.value.path == "/sr:Request/ds:Signature/ds:SignedInfo/ds:SignatureMethod"
    assert caught.value.line == 18


def test_signature_not_covering_the_document_is_rejected(signed: bytes,
                                                         supplier: Party) -> None:
    """A Reference pointing elsewhere than the whole message is refused."""
    moved = signed.replace(b'URI=""', b'URI="#elsewhere"')
    with pytest.raises(DuisSignatureError, match="whole message"):
        verify(moved, [supplier.certificate])


def test_nested_second_signature_is_rejected(signed: bytes, supplier: Party) -> None:
    """A signature hidden inside the body (wrapping) is refused."""
    def smuggle(root: etree._Element) -> None:
        body = root.find(f".//{{{NS}}}ReadInventory")
        body.append(etree.fromstring(etree.tostring(root.find(f"{{{DS}}}Signature"))))

    with pytest.raises(DuisError):
        verify(_rewrite(signed, smuggle), [supplier.certificate])


def test_sign_refuses_key_not_matching_certificate(supplier: Party,
                                                   other_party: Party) -> None:
    """A bench configured with the wrong key file fails at signing, not at the far end."""
    with pytest.raises(ValueError, match="does not belong"):
        sign(build_request(REQUEST), other_party.private_key, supplier.certificate)


def _ed25519_certificate():
    """A self-signed certificate whose key is not an EC key at all."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ed25519
    from cryptography.x509.oid import NameOID

    key = ed25519.Ed25519PrivateKey.generate()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ed25519")])
    now = datetime.datetime.now(datetime.UTC)
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(1).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, None))


def test_sign_refuses_a_certificate_whose_key_is_not_ec(supplier: Party) -> None:
    """A non-EC certificate is the wrong certificate (ValueError), not an AttributeError."""
    with pytest.raises(ValueError, match="does not belong"):
        sign(build_request(REQUEST), supplier.private_key, _ed25519_certificate())


def test_sign_refuses_already_signed(signed: bytes, supplier: Party) -> None:
    """Signing twice is refused."""
    with pytest.raises(DuisError, match="already signed"):
        sign(signed, supplier.private_key, supplier.certificate)


def test_issuer_name_spacing_and_order_do_not_matter(supplier: Party) -> None:
    """DCC writes ``CN=U1, OU=07`` and ``CN=Z1,OU=07``: the same name either way."""
    xml = sign(build_request(decommission_device(REQUEST.request_id, "00DB1234567890A0")),
               supplier.private_key, supplier.certificate)
    name = supplier.certificate.issuer.rfc4514_string()
    spaced = ", ".join(reversed(name.split(",")))
    respaced = _rewrite(xml, lambda root: root.find(f".//{{{DS}}}X509IssuerName")
                        .__setattr__("text", spaced))
    assert verify(respaced, [supplier.certificate]) == supplier.certificate


def test_signature_error_pickles(signed: bytes, other_party: Party) -> None:
    """Errors cross process boundaries (pytest-xdist) with code and location."""
    with pytest.raises(DuisSignatureError) as caught:
        verify(signed, [other_party.certificate], source="peer")
    copy = pickle.loads(pickle.dumps(caught.value))
    assert type(copy) is DuisSignatureError
    assert (copy.response_code, copy.path, copy.source, str(copy)) == (
        caught.value.response_code, caught.value.path, "peer", str(caught.value))
