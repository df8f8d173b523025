"""How the DCC adapter's receiving endpoint trusts what is posted to it: signer and sender.

Bench options of a ``dcc`` instrument (values as in ``credentials.py``: a secret reference,
a path, or PEM text; keys only by secret reference):

- ``dcc_certificate``: the DCC's signing certificate(s) (PEM); every response or alert
  posted must be signed with one of them, or it is refused (400).  Without it nothing posted
  is accepted.
- ``receive_tls_certificate``, ``receive_tls_key``, ``receive_tls_client_ca``: the endpoint
  serves HTTPS with this certificate and key and requires a client certificate issued by
  ``receive_tls_client_ca`` (mutual TLS: only the DCC may post).
- ``receive_plain_http = true``: plain HTTP instead, allowed only on a loopback
  ``receive_host`` and only when the bench says so explicitly (signatures are still checked).

An emulated DCC answers every one of these keys for ``emulator:`` references.
"""

from __future__ import annotations

import ipaddress
import ssl
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509

from harness.drivers.dcc.credentials import _pem, _value, unresolved
from harness.errors import BenchConfigError

__all__ = ["RECEIVE_KEYS", "TLS_KEYS", "ReceiveSecurity", "load_receive_security",
           "receive_unresolved"]

TLS_KEYS = ("receive_tls_certificate", "receive_tls_key", "receive_tls_client_ca")
"""The options that switch the receiving endpoint to mutual TLS (all three, or none)."""

RECEIVE_KEYS = ("dcc_certificate", *TLS_KEYS)
"""Every option the receiving endpoint's trust is built from."""


@dataclass(frozen=True)
class ReceiveSecurity:
    """The DCC certificates trusted to sign, and the mutual-TLS context (None: plain HTTP)."""

    dcc_certificates: tuple[x509.Certificate, ...] = ()
    tls: ssl.SSLContext | None = field(default=None, repr=False)


def receive_unresolved(options: Mapping[str, Any], secrets: Mapping[str, str]) -> list[str]:
    """The receiving-endpoint options that are secret references not resolved yet."""
    return unresolved(options, secrets, RECEIVE_KEYS)


def _is_loopback(host: str) -> bool:
    """``localhost`` or a loopback address."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _certificates(pem: bytes, key_path: str) -> tuple[x509.Certificate, ...]:
    """Every certificate in a PEM bundle (a clear error if there is none or it is bad)."""
    try:
        found = tuple(x509.load_pem_x509_certificates(pem))
    except ValueError as exc:
        raise BenchConfigError(f"not a PEM certificate: {exc}", key_path=key_path) from None
    return found


def _tls_context(cert_pem: bytes, key_pem: bytes, ca_pem: bytes, prefix: str
                 ) -> ssl.SSLContext:
    """A server context that requires a client certificate issued by ``ca_pem``."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.verify_mode = ssl.CERT_REQUIRED
    try:
        with tempfile.TemporaryDirectory(prefix="meterbench-receiver-tls-") as folder:
            cert_file, key_file = Path(folder, "cert.pem"), Path(folder, "key.pem")
            key_file.touch(mode=0o600)
            key_file.write_bytes(key_pem)
            cert_file.write_bytes(cert_pem)
            context.load_cert_chain(cert_file, key_file)
        context.load_verify_locations(cadata=ca_pem.decode("ascii"))
    except (ssl.SSLError, ValueError, UnicodeDecodeError) as exc:
        raise BenchConfigError(f"unusable TLS certificate, key or client CA: {exc}",
                               key_path=f"{prefix}.receive_tls_certificate") from None
    return context


def load_receive_security(options: Mapping[str, Any], *, prefix: str = "options",
                          base: Path | None = None, secrets: Mapping[str, str] | None = None,
                          host: str = "127.0.0.1") -> ReceiveSecurity:
    """The receiving endpoint's trust from the bench ``options`` (errors name the key path).

    Mutual TLS unless ``receive_plain_http`` is true, which needs a loopback ``host``."""
    secrets = secrets or {}
    certs: tuple[x509.Certificate, ...] = ()
    text = _value(options, "dcc_certificate", prefix, secrets=secrets, secret=False)
    if text is not None:
        key_path = f"{prefix}.dcc_certificate"
        certs = _certificates(_pem(text, base, key_path), key_path)
    values = {k: _value(options, k, prefix, secrets=secrets, secret=k == "receive_tls_key")
              for k in TLS_KEYS}
    plain = options.get("receive_plain_http", False) is True
    given = [k for k, v in values.items() if v is not None]
    if plain:
        if given:
            raise BenchConfigError("receive_plain_http = true and receive_tls_* both given",
                                   key_path=f"{prefix}.receive_plain_http",
                                   expected="one of the two")
        if not _is_loopback(host):
            raise BenchConfigError(
                f"plain HTTP is allowed on a loopback receive_host only, not {host!r}",
                key_path=f"{prefix}.receive_plain_http", expected="mutual TLS (receive_tls_*)")
        return ReceiveSecurity(certs, None)
    if len(given) != len(TLS_KEYS):
        missing = next(k for k in TLS_KEYS if values[k] is None)
        raise BenchConfigError(
            "the DCC receiving endpoint needs mutual TLS (receive_tls_certificate, "
            "receive_tls_key, receive_tls_client_ca), or receive_plain_http = true on a "
            "loopback receive_host, or receive = false", key_path=f"{prefix}.{missing}",
            expected="a certificate, key or CA")
    pems = {k: _pem(str(values[k]), base, f"{prefix}.{k}") for k in TLS_KEYS}
    return ReceiveSecurity(certs, _tls_context(pems["receive_tls_certificate"],
                                               pems["receive_tls_key"],
                                               pems["receive_tls_client_ca"], prefix))
