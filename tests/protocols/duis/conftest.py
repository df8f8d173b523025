"""Fixtures for the DUIS tests: keys and certificates from the emulator's test PKI."""

from __future__ import annotations

import pytest

from harness.domain.types import RemotePartyRole
from harness.emulator.world.pki import Party, TestPki


@pytest.fixture(scope="session")
def pki() -> TestPki:
    """A deterministic test PKI (harness/emulator/world/pki.py)."""
    return TestPki(seed=8)


@pytest.fixture(scope="session")
def supplier(pki: TestPki) -> Party:
    """A Supplier organisation's signing key and certificate."""
    return pki.organisation(RemotePartyRole.SUPPLIER)


@pytest.fixture(scope="session")
def other_party(pki: TestPki) -> Party:
    """A second, unrelated organisation (a Network Operator)."""
    return pki.organisation(RemotePartyRole.NETWORK_OPERATOR)
