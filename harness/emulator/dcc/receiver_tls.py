"""Emulated TLS material for the adapter's receiving endpoint: a CA, a server and a client.

The emulated DCC POSTs responses and alerts to the adapter over mutual TLS: the adapter's
endpoint serves ``server`` (valid for 127.0.0.1 and localhost) and requires a client
certificate from ``ca``; the emulated DCC presents ``client`` and trusts ``ca`` for the
server.  Fresh P-256 keys per emulated DCC, valid for a day; a test can make a second,
unrelated set to play a sender the endpoint must refuse.
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["PemPair", "ReceiverTls"]


@dataclass(frozen=True)
class PemPair:
    """A certificate and its private key, PEM."""

    certificate: str
    key: str = field(repr=False)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _pair(key: ec.EllipticCurvePrivateKey, cert: x509.Certificate) -> PemPair:
    return PemPair(cert.public_bytes(serialization.Encoding.PEM).decode("ascii"),
                   key.private_bytes(serialization.Encoding.PEM,
                                     serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption()).decode("ascii"))


def _issue(subject: str, key: ec.EllipticCurvePrivateKey, issuer: x509.Name,
           issuer_key: ec.EllipticCurvePrivateKey, *, ca: bool = False,
           server: bool = False) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    builder = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(issuer)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None),
                              critical=True))
    if server:
        builder = builder.add_extension(x509.SubjectAlternativeName(
            [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False).add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    elif not ca:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


@dataclass(frozen=True)
class ReceiverTls:
    """A CA, the receiving endpoint's server pair and the DCC's client pair (all PEM)."""

    ca_certificate: str
    server: PemPair
    client: PemPair

    @classmethod
    def generate(cls, label: str = "meterbench emulated") -> ReceiverTls:
        """Fresh material: one CA issuing one server and one client certificate."""
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = _name(f"{label} receiving-endpoint CA")
        ca = _issue(f"{label} receiving-endpoint CA", ca_key, ca_name, ca_key, ca=True)
        server_key = ec.generate_private_key(ec.SECP256R1())
        server = _issue(f"{label} DCC user receiving endpoint", server_key, ca_name, ca_key,
                        server=True)
        client_key = ec.generate_private_key(ec.SECP256R1())
        client = _issue(f"{label} DCC", client_key, ca_name, ca_key)
        return cls(ca.public_bytes(serialization.Encoding.PEM).decode("ascii"),
                   _pair(server_key, server), _pair(client_key, client))

    def client_context(self, *, with_certificate: bool = True) -> ssl.SSLContext:
        """What the DCC posts with: trusts the CA for the server, presents ``client``."""
        context = ssl.create_default_context(cadata=self.ca_certificate)
        if with_certificate:
            with tempfile.TemporaryDirectory(prefix="meterbench-dcc-client-") as folder:
                cert_file, key_file = Path(folder, "cert.pem"), Path(folder, "key.pem")
                key_file.touch(mode=0o600)
                key_file.write_text(self.client.key)
                cert_file.write_text(self.client.certificate)
                context.load_cert_chain(cert_file, key_file)
        return context

    def secret(self, key: str) -> str | None:
        """The adapter's ``receive_tls_*`` options for ``emulator:`` references."""
        return {"receive_tls_certificate": self.server.certificate,
                "receive_tls_key": self.server.key,
                "receive_tls_client_ca": self.ca_certificate}.get(key)
