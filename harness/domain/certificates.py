"""What a GB SMKI certificate says of its holder: the remote-party role its subject's OU
names (GBCS), read alike by the emulated PKI and by a profile reading a meter's anchors."""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.domain.types import RemotePartyRole

if TYPE_CHECKING:
    from cryptography import x509


def certificate_role(cert: x509.Certificate) -> RemotePartyRole | None:
    """The remote-party role named by the subject's OU; None if it is absent or unknown."""
    from cryptography.x509.oid import NameOID  # here: the domain layer stays cheap to import

    for attribute in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME):
        value = attribute.value
        if isinstance(value, str) and len(value) == 2:
            try:
                return RemotePartyRole(int(value, 16))
            except ValueError:
                continue
    return None
