"""A device's security credentials: its own certificates and its trust anchors, from the test PKI.

The device state keeps only which test-PKI variant sits in each anchor slot (cheap to copy
and commit); the certificates themselves are issued lazily by :class:`TestPki`, so building a
device, or a thousand, issues no certificate until someone asks for one.
"""

from __future__ import annotations

import threading

from harness.domain.types import RemotePartyRole
from harness.emulator.world.catalogue import DeviceModel
from harness.emulator.world.pki import DeviceCredentials, Party, TestPki

_lock = threading.Lock()
_shared: dict[int, TestPki] = {}

OPERATIONAL_VARIANT = 1
"""The anchor variant commissioning installs (the supplier's own, replacing the factory one)."""

COMMISSIONING_ROLES: tuple[RemotePartyRole, ...] = (
    RemotePartyRole.SUPPLIER, RemotePartyRole.NETWORK_OPERATOR,
)
"""The anchor slots commissioning replaces."""


def shared_pki(seed: int = 0) -> TestPki:
    """One test PKI per seed for the whole process, so every device trusts the same parties."""
    with _lock:
        pki = _shared.get(seed)
        if pki is None:
            pki = _shared[seed] = TestPki(seed)
        return pki


def anchor_party(pki: TestPki, role: RemotePartyRole, variant: int | None) -> Party | None:
    """The certificate in an anchor slot holding ``variant`` (None: the slot is empty)."""
    return None if variant is None else pki.trust_anchor(role, variant)


def anchor_fingerprints(pki: TestPki, anchors: dict[RemotePartyRole, int | None]
                        ) -> dict[RemotePartyRole, str | None]:
    """SubjectPublicKeyInfo fingerprint per anchor slot (None for an empty slot)."""
    result: dict[RemotePartyRole, str | None] = {}
    for role, variant in anchors.items():
        party = anchor_party(pki, role, variant)
        result[role] = party.spki_fingerprint() if party else None
    return result


def original_anchor_fingerprints(model: DeviceModel, pki: TestPki
                                 ) -> dict[RemotePartyRole, str | None]:
    """The anchors a factory-fresh device of ``model`` holds, by fingerprint."""
    return anchor_fingerprints(pki, dict(model.original_anchors))


def own_credentials(pki: TestPki, eui64: str) -> DeviceCredentials:
    """The device's Digital Signing and Key Agreement certificates."""
    return pki.device_credentials(eui64)
