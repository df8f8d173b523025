"""EUI-64s, the 8-byte identities of GB smart metering devices and organisations, in every form
meterbench meets: compact hex (meterbench's own), DUIS's dashed pairs, and a certificate's
x500UniqueIdentifier (GBCS: a BIT STRING of the 8 bytes). One home, so no layer re-spells them.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography import x509

__all__ = [
    "DUIS_PATTERN",
    "certificate_eui64",
    "eui64_duis",
    "from_unique_identifier",
    "is_eui64",
    "normalise_eui64",
    "unique_identifier",
]

_COMPACT = re.compile(r"[0-9A-Fa-f]{16}")
_SEPARATORS = re.compile(r"[-: ]")

DUIS_PATTERN = "-".join(["[0-9A-Fa-f]{2}"] * 8)
"""A regular expression (text, no anchors) matching an EUI-64 as DUIS writes it: ``00-1A-...``."""


def is_eui64(text: str) -> bool:
    """Whether ``text`` is an EUI-64 in the compact form: exactly 16 hex digits, any case."""
    return _COMPACT.fullmatch(text) is not None


def normalise_eui64(text: str) -> str:
    """Return an EUI-64 as 16 upper-case hex digits, accepting ``-``, ``:`` or space separators."""
    compact = _SEPARATORS.sub("", text.strip())
    if not is_eui64(compact):
        raise ValueError(f"not an EUI-64 (16 hex digits): {text!r}")
    return compact.upper()


def eui64_duis(eui: str) -> str:
    """An EUI-64 as DUIS writes it: eight dash-separated hex pairs."""
    compact = normalise_eui64(eui)
    return "-".join(compact[i : i + 2] for i in range(0, 16, 2))


def unique_identifier(eui: str) -> bytes:
    """The x500UniqueIdentifier BIT STRING content GBCS certificates carry for ``eui``: the
    "unused bits" octet (0) then the 8 bytes (as cryptography writes a BitString verbatim)."""
    return b"\x00" + bytes.fromhex(normalise_eui64(eui))


def from_unique_identifier(value: bytes | str) -> str | None:
    """The EUI-64 in an x500UniqueIdentifier value, compact; None if it holds none.

    Reads the GBCS form (BIT STRING content: a 0 unused-bits octet, then 8 bytes) and a text
    form (hex digits, optionally separated) that some certificates carry instead.
    """
    if isinstance(value, bytes):
        return value[1:].hex().upper() if len(value) == 9 and value[0] == 0 else None
    try:
        return normalise_eui64(value)
    except ValueError:
        return None


def certificate_eui64(cert: x509.Certificate) -> str | None:
    """The EUI-64 a certificate's subject names in its x500UniqueIdentifier, or None."""
    from cryptography.x509.oid import NameOID  # here: the domain layer stays cheap to import

    for attribute in cert.subject.get_attributes_for_oid(NameOID.X500_UNIQUE_IDENTIFIER):
        eui = from_unique_identifier(attribute.value)
        if eui is not None:
            return eui
    return None
