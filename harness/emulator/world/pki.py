"""A deterministic TEST PKI for the emulated devices (GB-SMART-METERING.md, "Certificates").

Every key is ECDSA P-256 derived from ``(seed, label)``, so the same seed gives the same keys
(and SubjectPublicKeyInfo fingerprints) in every run and every process.  Certificates are
issued lazily and cached, so a 1,000-device population costs nothing until a device's
credentials are actually asked for.  Never use these keys outside a test: they are guessable.
"""

from __future__ import annotations

import datetime
import hashlib
import threading
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import NameOID

from harness.domain.certificates import certificate_role
from harness.domain.eui64 import certificate_eui64, normalise_eui64, unique_identifier
from harness.domain.types import RemotePartyRole

__all__ = [
    "DeviceCredentials",
    "Party",
    "TestPki",
    "certificate_eui64",
    "certificate_role",
    "verify_signature",
    "verify_signed_by",
]

# Order of the P-256 group: derived private scalars must lie in [1, ORDER - 1].
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_DEFAULT_NOT_BEFORE = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
_VALIDITY_YEARS = 30
# Default organisation EUI-64s: DCC's ZAZ1 test PKI prefix, then a per-role byte (the
# Supplier's is 01, giving ZAZ1's 90B3D51F30010000), then the seed's and variant's low bytes.
_EUI64_PREFIX = "90B3D51F30"
_ROLE_EUI64_BYTE = {role: 0x10 + role.value for role in RemotePartyRole}
_ROLE_EUI64_BYTE[RemotePartyRole.SUPPLIER] = 0x01
_ROLE_EUI64_BYTE[RemotePartyRole.OTHER] = 0x8F
_MAX_VARIANT = 0xFF


@dataclass(frozen=True)
class Party:
    """One certified key: who it is (role, EUI-64), its certificate, and its private key."""

    role: RemotePartyRole | None  # None for a device's own certificates
    eui64: str
    certificate: x509.Certificate
    private_key: ec.EllipticCurvePrivateKey = field(repr=False)

    def spki_fingerprint(self) -> str:
        """SHA-256 (upper-case hex) of the DER SubjectPublicKeyInfo.

        Stable across runs, unlike the certificate's own fingerprint: ECDSA signatures are
        randomised, so re-issuing the same certificate gives different DER.
        """
        spki = self.certificate.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return hashlib.sha256(spki).hexdigest().upper()

    def pem(self) -> bytes:
        """The certificate in PEM form."""
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def sign(self, data: bytes) -> bytes:
        """An ECDSA P-256 / SHA-256 signature of ``data``, DER-encoded."""
        return self.private_key.sign(data, ec.ECDSA(hashes.SHA256()))


@dataclass(frozen=True)
class DeviceCredentials:
    """A device's own certificates: Digital Signing and Key Agreement."""

    eui64: str
    digital_signing: Party
    key_agreement: Party


def _digest(seed: int, label: str) -> bytes:
    """The SHA-256 every key of this PKI is derived from."""
    return hashlib.sha256(f"meterbench-test-pki:{seed}:{label}".encode()).digest()


def _derive_key(seed: int, label: str) -> ec.EllipticCurvePrivateKey:
    """The P-256 key for ``label``: cheap (one scalar multiplication) and reproducible."""
    scalar = int.from_bytes(_digest(seed, label)) % (_P256_ORDER - 1) + 1
    return ec.derive_private_key(scalar, ec.SECP256R1())


def _serial(seed: int, label: str) -> int:
    """A positive serial number from the label's hash.

    A separate hash domain from the key's, so a serial number never reveals key bits.
    """
    return int.from_bytes(_digest(seed, f"serial:{label}")[:16]) or 1


def _eui64_attribute(eui64: str) -> x509.NameAttribute[bytes]:
    """x500UniqueIdentifier as GBCS organisation certificates carry it: a BIT STRING of 8 bytes.

    cryptography writes a BitString attribute's value verbatim as the BIT STRING content,
    so the leading 0x00 is the "unused bits" octet and the EUI-64 bytes follow it.
    """
    value = unique_identifier(eui64)
    return x509.NameAttribute(NameOID.X500_UNIQUE_IDENTIFIER, value, _type=_ASN1Type.BitString)


def _name(common_name: str | None, role: RemotePartyRole | None, eui64: str) -> x509.Name:
    """A subject name: optional CN, the role as OU (organisations only), and the EUI-64."""
    attributes: list[x509.NameAttribute[str] | x509.NameAttribute[bytes]] = []
    if common_name is not None:
        attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    if role is not None:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, role.ou))
    attributes.append(_eui64_attribute(eui64))
    return x509.Name(attributes)


def verify_signature(cert: x509.Certificate, data: bytes, signature: bytes) -> bool:
    """Whether ``signature`` is an ECDSA/SHA-256 signature of ``data`` by ``cert``'s key."""
    key = cert.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey):
        return False
    try:
        key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        return False
    return True


def verify_signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Whether ``issuer`` issued ``cert``: names chain and the ECDSA-SHA256 signature checks."""
    if cert.issuer != issuer.subject:
        return False
    if not isinstance(cert.signature_hash_algorithm, hashes.SHA256):
        return False
    return verify_signature(issuer, cert.tbs_certificate_bytes, cert.signature)


class TestPki:
    """A lazily-issued, seed-determined Root CA, Issuing CA, organisations and devices.

    Thread-safe; certificates are cached per object, keys are reproducible across objects.
    """

    __test__ = False  # its name starts with "Test": stop pytest collecting it as a test class

    def __init__(self, seed: int = 0, *, not_before: datetime.datetime | None = None) -> None:
        self.seed = seed
        start = not_before or _DEFAULT_NOT_BEFORE
        if start.tzinfo is None:
            start = start.replace(tzinfo=datetime.UTC)
        self.not_before = start
        try:
            self.not_after = start.replace(year=start.year + _VALIDITY_YEARS)
        except ValueError:  # 29 February in a year that has none
            self.not_after = start.replace(year=start.year + _VALIDITY_YEARS, day=28)
        self._lock = threading.RLock()
        self._roots: dict[int, Party] = {}
        self._issuing: dict[int, Party] = {}
        self._organisations: dict[tuple[RemotePartyRole, str], Party] = {}
        self._devices: dict[str, DeviceCredentials] = {}

    def __repr__(self) -> str:
        return f"TestPki(seed={self.seed}, not_before={self.not_before.isoformat()})"

    # -- building blocks ---------------------------------------------------------------

    def default_eui64(self, role: RemotePartyRole, variant: int = 0) -> str:
        """The EUI-64 of ``role``'s default organisation (variant n: the n-th replacement)."""
        self._check_variant(variant)
        return f"{_EUI64_PREFIX}{_ROLE_EUI64_BYTE[role]:02X}{self.seed & 0xFF:02X}{variant:02X}"

    @staticmethod
    def _check_variant(variant: int) -> None:
        """Variants fit the EUI-64's last byte, so each one is a distinct organisation."""
        if not 0 <= variant <= _MAX_VARIANT:
            raise ValueError(f"variant must be 0..{_MAX_VARIANT}, not {variant}")

    def _issue(
        self,
        label: str,
        subject: x509.Name,
        key_usage: x509.KeyUsage,
        issuer: Party | None,
        *,
        ca: bool,
    ) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
        """Sign one certificate for the key derived from ``label`` (self-signed if no issuer)."""
        key = _derive_key(self.seed, label)
        public = key.public_key()
        signer_key = issuer.private_key if issuer else key
        signer_name = issuer.certificate.subject if issuer else subject
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(signer_name)
            .public_key(public)
            .serial_number(_serial(self.seed, label))
            .not_valid_before(self.not_before)
            .not_valid_after(self.not_after)
            .add_extension(key_usage, critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(signer_key.public_key()),
                critical=False,
            )
        )
        if ca:
            builder = builder.add_extension(
                x509.BasicConstraints(ca=True, path_length=None), critical=True
            )
        return builder.sign(signer_key, hashes.SHA256()), key

    # -- the CAs ---------------------------------------------------------------------

    @property
    def root(self) -> Party:
        """The self-signed Root CA (OU "00") that everything else chains to."""
        return self._root(0)

    @property
    def issuing_ca(self) -> Party:
        """The Issuing Authority CA (OU "07"), signed by the root; it signs every leaf."""
        return self._issuing_ca(0)

    def _root(self, variant: int) -> Party:
        """Root variant 0 is the real root; others are unrelated self-signed roots."""
        with self._lock:
            if variant not in self._roots:
                role = RemotePartyRole.ROOT
                eui64 = self.default_eui64(role, variant)
                cert, key = self._issue(
                    f"root:v{variant}",
                    _name(f"meterbench test Root CA {variant}", role, eui64),
                    _ca_usage(),
                    None,
                    ca=True,
                )
                self._roots[variant] = Party(role, eui64, cert, key)
            return self._roots[variant]

    def _issuing_ca(self, variant: int) -> Party:
        """Issuing CA variant 0 signs leaves; other variants are distinct CAs under the root."""
        with self._lock:
            if variant not in self._issuing:
                role = RemotePartyRole.ISSUING_AUTHORITY
                eui64 = self.default_eui64(role, variant)
                cert, key = self._issue(
                    f"issuing-ca:v{variant}",
                    _name(f"meterbench test Issuing CA {variant}", role, eui64),
                    _ca_usage(),
                    self.root,
                    ca=True,
                )
                self._issuing[variant] = Party(role, eui64, cert, key)
            return self._issuing[variant]

    # -- organisations and devices ---------------------------------------------------------

    def organisation(
        self, role: RemotePartyRole, eui64: str | None = None, name: str | None = None
    ) -> Party:
        """An organisation's Digital Signing certificate, issued by the Issuing CA.

        ROOT and ISSUING_AUTHORITY return the CAs themselves (only their own EUI-64 is valid).
        Cached per (role, EUI-64); asking again under a different ``name`` is an error.
        """
        eui = normalise_eui64(eui64) if eui64 is not None else self.default_eui64(role)
        if role in (RemotePartyRole.ROOT, RemotePartyRole.ISSUING_AUTHORITY):
            ca = self.root if role is RemotePartyRole.ROOT else self.issuing_ca
            if eui != ca.eui64:
                raise ValueError(f"the test PKI has one {role.name} CA, EUI-64 {ca.eui64}")
            return ca
        common_name = name if name is not None else role.name
        with self._lock:
            party = self._organisations.get((role, eui))
            if party is None:
                cert, key = self._issue(
                    f"org:{role.name}:{eui}",
                    _name(common_name, role, eui),
                    _leaf_usage(digital_signature=True),
                    self.issuing_ca,
                    ca=False,
                )
                party = Party(role, eui, cert, key)
                self._organisations[(role, eui)] = party
        cached_cn = party.certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        if name is not None and cached_cn[0].value != name:
            raise ValueError(
                f"{role.name} {eui} was already issued as {cached_cn[0].value!r}, not {name!r}"
            )
        return party

    def device_credentials(self, eui64: str) -> DeviceCredentials:
        """A device's own Digital Signing and Key Agreement certificates (no OU: not a party)."""
        eui = normalise_eui64(eui64)
        with self._lock:
            creds = self._devices.get(eui)
            if creds is None:
                subject = _name(None, None, eui)
                issuer = self.issuing_ca
                ds_cert, ds_key = self._issue(
                    f"device:{eui}:ds",
                    subject,
                    _leaf_usage(digital_signature=True),
                    issuer,
                    ca=False,
                )
                ka_cert, ka_key = self._issue(
                    f"device:{eui}:ka",
                    subject,
                    _leaf_usage(key_agreement=True),
                    issuer,
                    ca=False,
                )
                creds = DeviceCredentials(
                    eui, Party(None, eui, ds_cert, ds_key), Party(None, eui, ka_cert, ka_key)
                )
                self._devices[eui] = creds
            return creds

    def trust_anchor(self, role: RemotePartyRole, variant: int = 0) -> Party:
        """The anchor a device holds for ``role``: variant 0 factory, 1.. replacements.

        A replacement is another organisation of the same role (new EUI-64, new key), as
        after a change of supplier.  ROOT variants are unrelated self-signed roots.
        """
        self._check_variant(variant)
        if role is RemotePartyRole.ROOT:
            return self._root(variant)
        if role is RemotePartyRole.ISSUING_AUTHORITY:
            return self._issuing_ca(variant)
        return self.organisation(role, self.default_eui64(role, variant))


def _ca_usage() -> x509.KeyUsage:
    """keyUsage for a CA: certificate and CRL signing."""
    return x509.KeyUsage(
        digital_signature=False,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=True,
        encipher_only=False,
        decipher_only=False,
    )


def _leaf_usage(*, digital_signature: bool = False, key_agreement: bool = False) -> x509.KeyUsage:
    """keyUsage for an end-entity: exactly one of digitalSignature or keyAgreement."""
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=key_agreement,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
