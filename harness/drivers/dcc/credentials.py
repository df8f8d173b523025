"""The DCC user a DCC adapter signs as: User ID, signing key and certificate, resolved late.

A bench file names them by secret reference (``harness.config.secrets``, DESIGN.md principle
4), never in clear:

- ``signing_key``: ``env:NAME`` / ``file:PATH#KEY`` / ``emulator:``; the value is the PEM
  private key itself, or the path of a PEM file holding it;
- ``signing_certificate``: the same, or a plain path to the PEM certificate (not a secret);
- ``user_id`` (optional): the User ID (EUI-64); by default the certificate's
  x500UniqueIdentifier, as in a GBCS organisation certificate.

The references are resolved by the bench (``harness.config.secrets.resolve_references``),
never here: :func:`load_credentials` is given the resolved values by option key. An
``emulator:`` reference is answered by the emulated DCC (its test user's credentials) once the
bench that runs it resolves it; until then it is unresolved and the credentials wait.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from harness.config.secrets import is_reference
from harness.domain.eui64 import certificate_eui64, eui64_duis, normalise_eui64
from harness.errors import BenchConfigError

__all__ = ["CREDENTIAL_KEYS", "DccCredentials", "certificate_eui64", "load_credentials",
           "unresolved"]

CREDENTIAL_KEYS = ("signing_key", "signing_certificate", "user_id")
"""The options naming the DCC user an adapter signs as."""


@dataclass(frozen=True)
class DccCredentials:
    """Who the adapter is to the DCC: User ID, the P-256 key it signs with, its certificate."""

    user_id: str
    private_key: ec.EllipticCurvePrivateKey = field(repr=False)
    certificate: x509.Certificate = field(repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "user_id", normalise_eui64(self.user_id))
        if self.private_key.public_key() != self.certificate.public_key():
            raise ValueError(f"the signing key does not belong to the certificate of user "
                             f"{eui64_duis(self.user_id)}")

    @classmethod
    def from_party(cls, party: Any) -> DccCredentials:
        """From anything with ``eui64``, ``private_key`` and ``certificate`` (a test-PKI Party)."""
        return cls(party.eui64, party.private_key, party.certificate)

    @property
    def duis_id(self) -> str:
        """The User ID as DUIS writes it."""
        return eui64_duis(self.user_id)


def unresolved(options: Mapping[str, Any], secrets: Mapping[str, str],
               keys: tuple[str, ...] = CREDENTIAL_KEYS) -> list[str]:
    """The ``keys`` whose option is a secret reference with no resolved value yet (e.g. an
    ``emulator:`` one before the emulated bench has answered it)."""
    return [k for k in keys if is_reference(options.get(k)) and k not in secrets]


def _pem(value: str, base: Path | None, key_path: str) -> bytes:
    """PEM text as given, or read from the file ``value`` names."""
    if value.lstrip().startswith("-----BEGIN"):
        return value.encode("ascii")
    path = Path(value)
    if base is not None and not path.is_absolute():
        path = base / path
    try:
        return path.read_bytes()
    except OSError as exc:
        raise BenchConfigError(f"cannot read {path}: {exc.strerror}", key_path=key_path) from None


def _value(options: Mapping[str, Any], key: str, prefix: str, *, secrets: Mapping[str, str],
           secret: bool) -> str | None:
    """An option's value: a secret reference's resolved value, or (if allowed) a plain one."""
    raw = options.get(key)
    if raw is None:
        return None
    text = str(raw)
    key_path = f"{prefix}.{key}"
    if is_reference(text):
        if key not in secrets:
            raise BenchConfigError(f"the secret reference {text.partition(':')[0]}: was not "
                                   "resolved (the bench resolves secret references; an "
                                   "emulator: one only on an emulated bench)", key_path=key_path)
        return secrets[key]
    if secret:
        raise BenchConfigError("a signing key is never written in a bench file",
                               key_path=key_path, expected="env:NAME, file:PATH#KEY or emulator:")
    return text


def load_credentials(options: Mapping[str, Any], *, secrets: Mapping[str, str] | None = None,
                     prefix: str = "options", base: Path | None = None) -> DccCredentials:
    """The credentials a bench instrument's ``options`` name (errors name the key path);
    ``secrets``: the resolved values of the options that are secret references, by key."""
    secrets = secrets or {}
    key_text = _value(options, "signing_key", prefix, secrets=secrets, secret=True)
    cert_text = _value(options, "signing_certificate", prefix, secrets=secrets, secret=False)
    if key_text is None or cert_text is None:
        missing = "signing_key" if key_text is None else "signing_certificate"
        raise BenchConfigError("a DCC adapter needs a signing key and certificate",
                               key_path=f"{prefix}.{missing}", expected="a secret reference")
    try:
        key = serialization.load_pem_private_key(
            _pem(key_text, base, f"{prefix}.signing_key"), password=None)
        cert = x509.load_pem_x509_certificate(
            _pem(cert_text, base, f"{prefix}.signing_certificate"))
    except ValueError as exc:
        raise BenchConfigError(f"not a PEM key or certificate: {exc}",
                               key_path=f"{prefix}.signing_key") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve,
                                                                          ec.SECP256R1):
        raise BenchConfigError("DUIS signatures need an ECDSA P-256 key",
                               key_path=f"{prefix}.signing_key")
    user_id = _value(options, "user_id", prefix, secrets=secrets, secret=False)
    user_id = user_id or certificate_eui64(cert)
    if user_id is None:
        raise BenchConfigError("no user_id given and the certificate carries no EUI-64",
                               key_path=f"{prefix}.user_id", expected="an EUI-64")
    try:
        return DccCredentials(user_id, key, cert)
    except ValueError as exc:
        raise BenchConfigError(str(exc), key_path=f"{prefix}.signing_key") from None
