"""DCC users of the emulated environment: signing certificate → user id and DUIS user roles.

This stands in for DCC's user registration (a real DCC User is admitted through SEC entry
processes and registers its certificates with the DCC): here a registry maps each signing
certificate, by issuer name and serial number as a DUIS signature's ``X509IssuerSerial``
names it, to a User ID (EUI-64) and the user roles it holds.  The built-in test users are
organisations of the emulator's test PKI (``harness.emulator.world.pki``); their keys are
guessable and only ever for tests.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from harness.domain.eui64 import eui64_duis, normalise_eui64
from harness.domain.types import RemotePartyRole
from harness.emulator.world.pki import Party, TestPki
from harness.protocols.duis import UserRole

__all__ = ["TEST_USERS", "DccUser", "TestUserSpec", "UserRegistry", "user_party"]


@dataclass(frozen=True)
class DccUser:
    """A registered DCC user: its User ID, roles, name and signing certificate."""

    user_id: str  # EUI-64, 16 upper-case hex digits
    roles: frozenset[UserRole]
    name: str
    certificate: x509.Certificate = field(repr=False)

    @property
    def duis_id(self) -> str:
        """The User ID as DUIS writes it."""
        return eui64_duis(self.user_id)


@dataclass(frozen=True)
class TestUserSpec:
    """A built-in test user: which test-PKI organisation signs for it and which roles it has."""

    __test__ = False  # not a pytest test class

    name: str
    party_role: RemotePartyRole
    variant: int  # the test PKI's n-th organisation of that role (its EUI-64's last byte)
    roles: frozenset[UserRole]


TEST_USERS: dict[str, TestUserSpec] = {
    spec.name: spec
    for spec in (
        # The test PKI's default Supplier has ZAZ1's test-supplier EUI-64 90B3D51F30010000
        # (GB-SMART-METERING.md), the originator of DCC's reference requests.
        TestUserSpec("supplier", RemotePartyRole.SUPPLIER, 0,
                     frozenset({UserRole.IS, UserRole.GS})),
        TestUserSpec("rsa", RemotePartyRole.OTHER, 0, frozenset({UserRole.RSA})),
        TestUserSpec("distributor", RemotePartyRole.NETWORK_OPERATOR, 0,
                     frozenset({UserRole.ED})),
        TestUserSpec("other_user", RemotePartyRole.OTHER, 1, frozenset({UserRole.OU})),
    )
}
"""The users every emulated DCC registers, by name (an RSA and an Other User carry the
GBCS role Other, 127, in their certificates: the DUIS role is what the registry says)."""


def user_party(pki: TestPki, name: str) -> Party:
    """The test-PKI certificate and key a built-in test user signs with.

    The organisation as the test PKI names it (no name of our own): the test Supplier is also
    the party whose key a bench device holds as its factory Supplier anchor, and the PKI
    refuses one organisation under two names, whichever was issued first in the process."""
    spec = TEST_USERS.get(name)
    if spec is None:
        raise KeyError(f"no test user {name!r}; known: {', '.join(TEST_USERS)}")
    eui = pki.default_eui64(spec.party_role, spec.variant)
    return pki.organisation(spec.party_role, eui)


def _issuer_serial(cert: x509.Certificate) -> tuple[str, int]:
    """How a signature names a certificate: issuer DN and serial number."""
    return cert.issuer.rfc4514_string(), cert.serial_number


class UserRegistry:
    """Certificates → users; thread-safe."""

    def __init__(self) -> None:
        self._by_cert: dict[tuple[str, int], DccUser] = {}
        self._by_id: dict[str, DccUser] = {}
        self._lock = threading.Lock()

    @classmethod
    def with_test_users(cls, pki: TestPki, names: Iterable[str] | None = None) -> UserRegistry:
        """A registry holding the built-in test users (all of them unless ``names``)."""
        registry = cls()
        for name in names if names is not None else TEST_USERS:
            party = user_party(pki, name)
            registry.register(party.certificate, party.eui64, TEST_USERS[name].roles, name)
        return registry

    def register(self, certificate: x509.Certificate, user_id: str,
                 roles: Iterable[UserRole | str], name: str = "") -> DccUser:
        """Register ``certificate`` as the signing certificate of ``user_id``."""
        user = DccUser(normalise_eui64(user_id), frozenset(UserRole(r) for r in roles),
                       name or user_id, certificate)
        if not user.roles:
            raise ValueError(f"user {user.duis_id} needs at least one role")
        with self._lock:
            self._by_cert[_issuer_serial(certificate)] = user
            self._by_id.setdefault(user.user_id, user)
        return user

    def by_certificate(self, certificate: x509.Certificate) -> DccUser | None:
        """The user registered with ``certificate`` (matched by issuer and serial), or None."""
        with self._lock:
            user = self._by_cert.get(_issuer_serial(certificate))
        if user is None or user.certificate != certificate:
            return None
        return user

    def by_user_id(self, user_id: str) -> DccUser | None:
        """The (first registered) user with ``user_id``, or None."""
        try:
            key = normalise_eui64(user_id)
        except ValueError:
            return None
        with self._lock:
            return self._by_id.get(key)

    def by_name(self, name: str) -> DccUser | None:
        """The user registered under ``name``, or None."""
        with self._lock:
            return next((u for u in self._by_id.values() if u.name == name), None)

    def trusted_certificates(self) -> list[x509.Certificate]:
        """Every registered signing certificate (what a signature is verified against)."""
        with self._lock:
            return [u.certificate for u in self._by_cert.values()]

    def users(self) -> list[DccUser]:
        """Every registered user."""
        with self._lock:
            return list(self._by_id.values())


def private_key_pem(key: ec.EllipticCurvePrivateKey) -> str:
    """A private key as unencrypted PKCS#8 PEM text (for ``emulator:`` secret references)."""
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode("ascii")
