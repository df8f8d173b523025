"""Sign and verify DUIS messages with an enveloped XML signature.

Profile (GB-SMART-METERING.md, "DUIS messages", and DCC's reference requests): ECDSA P-256
with SHA-256, exclusive c14n, a SHA-256 digest of the whole document (``Reference URI=""``,
enveloped-signature transform only), the key named by ``X509IssuerSerial``.  Signing and
the cryptographic check use signxml; the structure, the placeholder test and the signer
lookup are meterbench's, so every failure is a located DuisSignatureError with a code from
codes.py.  DCC's reference requests carry placeholder digest and signature values
(base64 of ``default``): ``relaxed=True`` accepts exactly those, and nothing else unchecked.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from collections.abc import Iterable

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from lxml import etree
from signxml import (
    CanonicalizationMethod,
    DigestAlgorithm,
    SignatureMethod,
    XMLSigner,
    XMLVerifier,
)
from signxml.exceptions import InvalidInput, InvalidSignature
from signxml.verifier import SignatureConfiguration

from harness.protocols.digits import ascii_int

from .codes import MALFORMED, SIGNATURE_INVALID, SIGNATURE_MISSING, SIGNER_UNKNOWN
from .errors import DuisError, DuisSignatureError
from .namespaces import DS
from .xmltree import child_elements, element_path, local_name, namespace_of, parse_xml

__all__ = ["PLACEHOLDER", "sign", "verify"]

PLACEHOLDER = b"default"
"""What the digest and signature values of DCC's reference requests decode to."""

_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
_ECDSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
_SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
_ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
_ALLOWED_TRANSFORMS = {_ENVELOPED, _C14N}
_CONFIG = SignatureConfiguration(
    signature_methods=frozenset({SignatureMethod.ECDSA_SHA256}),
    digest_algorithms=frozenset({DigestAlgorithm.SHA256}),
    default_reference_c14n_method=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
)


def _ds(name: str) -> str:
    """Clark name of an XML-DSig element."""
    return f"{{{DS}}}{name}"


def _key_info(cert: x509.Certificate) -> etree._Element:
    """``ds:KeyInfo/ds:X509Data/ds:X509IssuerSerial`` naming ``cert``."""
    key_info = etree.Element(_ds("KeyInfo"), nsmap={"ds": DS})
    issuer_serial = etree.SubElement(etree.SubElement(key_info, _ds("X509Data")),
                                     _ds("X509IssuerSerial"))
    etree.SubElement(issuer_serial, _ds("X509IssuerName")).text = cert.issuer.rfc4514_string()
    etree.SubElement(issuer_serial, _ds("X509SerialNumber")).text = str(cert.serial_number)
    return key_info


def sign(xml: bytes, key: ec.EllipticCurvePrivateKey, cert: x509.Certificate) -> bytes:
    """``xml`` with an enveloped ECDSA-SHA256 signature by ``key``, naming ``cert``.

    ``key`` must be the private key of ``cert`` (a P-256 key); the message must not already
    carry a signature.
    """
    root = parse_xml(xml, "sign")
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve,
                                                                          ec.SECP256R1):
        raise ValueError("DUIS signing needs an ECDSA P-256 private key")
    if key.public_key() != cert.public_key():
        raise ValueError(f"the key does not belong to certificate serial {cert.serial_number}")
    existing = root.find(f".//{_ds('Signature')}")
    if existing is not None:
        raise DuisError("the message is already signed", response_code=MALFORMED,
                        source="sign", line=existing.sourceline, path=element_path(existing))
    signer = XMLSigner(
        signature_algorithm=SignatureMethod.ECDSA_SHA256,
        digest_algorithm=DigestAlgorithm.SHA256,
        c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
    )
    signed = signer.sign(root, key=key, key_info=_key_info(cert),
                         exclude_c14n_transform_element=True)
    return etree.tostring(signed, xml_declaration=True, encoding="UTF-8")


# --- verification --------------------------------------------------------------------------


def _fail(message: str, source: str, element: etree._Element | None,
          code: str = SIGNATURE_INVALID, child: str | None = None) -> DuisSignatureError:
    """A located DuisSignatureError."""
    return DuisSignatureError(
        message,
        response_code=code,
        source=source,
        line=element.sourceline if element is not None else None,
        path=element_path(element, child) if element is not None else None,
    )


def _one(parent: etree._Element, name: str, source: str) -> etree._Element:
    """The single ``ds:{name}`` child of ``parent``."""
    found = [c for c in child_elements(parent) if c.tag == _ds(name)]
    if len(found) != 1:
        raise _fail(f"expected one ds:{name}, found {len(found)}", source, parent,
                    child=f"ds:{name}")
    return found[0]


def _algorithm(parent: etree._Element, name: str, expected: str, source: str) -> None:
    """``ds:{name}/@Algorithm`` must be ``expected``."""
    element = _one(parent, name, source)
    if element.get("Algorithm") != expected:
        raise _fail(f"ds:{name} Algorithm {element.get('Algorithm')!r}, DUIS uses "
                    f"{expected!r}", source, element)


def _decoded(element: etree._Element, source: str) -> bytes:
    """The base64 content of a DigestValue / SignatureValue."""
    text = "".join((element.text or "").split())
    if not text:
        raise _fail(f"ds:{local_name(element)} is empty", source, element)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise _fail(f"ds:{local_name(element)} is not base64", source, element) from None


def _signature(root: etree._Element, source: str) -> etree._Element:
    """The one ds:Signature, a direct child of the root; anything else is refused."""
    everywhere = list(root.iter(_ds("Signature")))
    direct = [e for e in everywhere if e.getparent() is root]
    if not everywhere:
        raise _fail("the message is not signed (no ds:Signature)", source, root,
                    SIGNATURE_MISSING, "ds:Signature")
    if len(everywhere) != 1 or len(direct) != 1:
        stray = [e for e in everywhere if e.getparent() is not root] or direct[1:]
        raise _fail("expected exactly one ds:Signature, directly under the root element",
                    source, stray[0])
    return direct[0]


def _issuer_serial(signature: etree._Element, source: str) -> tuple[str, int, etree._Element]:
    """The X509IssuerName and X509SerialNumber the signature names."""
    issuer_serial = _one(_one(_one(signature, "KeyInfo", source), "X509Data", source),
                         "X509IssuerSerial", source)
    name = (_one(issuer_serial, "X509IssuerName", source).text or "").strip()
    serial_element = _one(issuer_serial, "X509SerialNumber", source)
    serial_text = (serial_element.text or "").strip()
    serial = ascii_int(serial_text, _MAX_SERIAL_DIGITS)
    if not name or serial is None:
        raise _fail("X509IssuerSerial needs an issuer name and a decimal serial number of at "
                    f"most {_MAX_SERIAL_DIGITS} ASCII digits", source, serial_element)
    return name, serial, issuer_serial


_MAX_SERIAL_DIGITS = 49  # RFC 5280: a serial is at most 20 octets (< 10**49)
_RDN_SPLIT = re.compile(r"(?<!\\)[,+]")


def _name_key(text: str) -> frozenset[tuple[str, str]]:
    """An RFC 4514 name as a set of (TYPE, value): spacing and RDN order do not matter.

    DCC writes ``CN=U1, OU=07`` (reference requests) and ``CN=Z1,OU=07`` (DCC Boxed).
    """
    pairs = set()
    for part in _RDN_SPLIT.split(text):
        kind, _, value = part.strip().partition("=")
        pairs.add((kind.strip().upper(), value.strip()))
    return frozenset(pairs)


def _find_signer(trusted: Iterable[x509.Certificate], issuer: str, serial: int
                 ) -> x509.Certificate | None:
    """The trusted certificate with this issuer and serial number."""
    key = _name_key(issuer)
    for cert in trusted:
        if cert.serial_number == serial and _name_key(cert.issuer.rfc4514_string()) == key:
            return cert
    return None


def verify(
    xml: bytes,
    trusted: Iterable[x509.Certificate],
    *,
    relaxed: bool = False,
    source: str = "message",
) -> x509.Certificate | None:
    """Check ``xml``'s signature; return the signer's certificate (None: relaxed placeholder).

    Strict: the signature must verify with a ``trusted`` certificate found by issuer and
    serial number.  ``relaxed=True`` also accepts DCC's placeholder values (returning None);
    a missing or malformed signature is an error either way.  Raises DuisSignatureError.
    """
    root = parse_xml(xml, source)
    signature = _signature(root, source)
    signed_info = _one(signature, "SignedInfo", source)
    _algorithm(signed_info, "CanonicalizationMethod", _C14N, source)
    _algorithm(signed_info, "SignatureMethod", _ECDSA_SHA256, source)
    reference = _one(signed_info, "Reference", source)
    if reference.get("URI") != "":
        raise _fail(f"ds:Reference URI must be \"\" (the whole message), got "
                    f"{reference.get('URI')!r}", source, reference)
    transforms = [t.get("Algorithm") for t in _one(reference, "Transforms", source)
                  if isinstance(t.tag, str)]
    if _ENVELOPED not in transforms or not set(transforms) <= _ALLOWED_TRANSFORMS:
        raise _fail(f"unexpected transforms {transforms}; DUIS uses the enveloped-signature "
                    "transform", source, reference)
    _algorithm(reference, "DigestMethod", _SHA256, source)
    digest = _decoded(_one(reference, "DigestValue", source), source)
    signature_value = _one(signature, "SignatureValue", source)
    value = _decoded(signature_value, source)
    issuer, serial, issuer_serial = _issuer_serial(signature, source)
    if PLACEHOLDER in (digest, value):
        if relaxed:
            return None
        raise _fail("digest/signature values are placeholders (DCC reference test data "
                    "signature): badly signed", source, signature_value)
    cert = _find_signer(trusted, issuer, serial)
    if cert is None:
        raise _fail(f"no trusted certificate with issuer {issuer!r} and serial {serial}",
                    source, issuer_serial, SIGNER_UNKNOWN)
    now = dt.datetime.now(dt.UTC)
    if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
        raise _fail(f"signer certificate serial {serial} is not valid now", source,
                    issuer_serial)
    try:
        result = XMLVerifier().verify(xml, x509_cert=cert, expect_config=_CONFIG)
    except InvalidSignature as exc:  # also InvalidDigest, InvalidCertificate
        raise _fail(f"signature does not verify: {exc}", source, signature_value) from None
    # e.g. schema-invalid ds:* (lxml), an element signxml reads without checking (TypeError)
    except (InvalidInput, etree.LxmlError, ValueError, TypeError) as exc:
        raise _fail(f"signature cannot be checked: {exc}", source, signature) from None
    signed = result[0] if isinstance(result, list) else result
    if signed.signed_xml is None or signed.signed_xml.tag != root.tag or namespace_of(
        signed.signed_xml
    ) != namespace_of(root):
        raise _fail("the signature does not cover the whole message", source, reference)
    return cert
