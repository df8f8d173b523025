"""GB smart metering vocabularies (GB-SMART-METERING.md): device types, SMI statuses, roles."""

from __future__ import annotations

from enum import IntEnum, StrEnum

__all__ = ["DeviceType", "RemotePartyRole", "SmiStatus"]


class DeviceType(IntEnum):
    """GBCS DeviceType numbering (DCC gbcs-parser asn1.ts)."""

    GSME = 0
    ESME = 1
    CHF = 2
    GPF = 3
    HCALCS = 4
    PPMID = 5
    TYPE2 = 6

    @classmethod
    def parse(cls, text: str | int) -> DeviceType:
        """Accept a name (``"ESME"``, case-insensitive) or a GBCS number."""
        if isinstance(text, int) or (isinstance(text, str) and text.isdigit()):
            return cls(int(text))
        try:
            return cls[text.strip().upper()]
        except KeyError:
            known = ", ".join(m.name for m in cls)
            raise ValueError(f"unknown device type {text!r}; known: {known}") from None


class SmiStatus(StrEnum):
    """Smart Metering Inventory statuses, spelled as DUIS spells them (no spaces)."""

    PENDING = "Pending"
    WHITELISTED = "Whitelisted"
    INSTALLED_NOT_COMMISSIONED = "InstalledNotCommissioned"
    COMMISSIONED = "Commissioned"
    DECOMMISSIONED = "Decommissioned"
    WITHDRAWN = "Withdrawn"
    SUSPENDED = "Suspended"
    RECOVERY = "Recovery"
    RECOVERED = "Recovered"
    NOT_APPLICABLE = "NotApplicable"


class RemotePartyRole(IntEnum):
    """GBCS RemotePartyRole; an organisation certificate carries it as a 2-hex-digit OU."""

    ROOT = 0
    RECOVERY = 1
    SUPPLIER = 2
    NETWORK_OPERATOR = 3
    ACCESS_CONTROL_BROKER = 4
    TRANSITIONAL_COS = 5
    WAN_PROVIDER = 6
    ISSUING_AUTHORITY = 7
    OTHER = 127

    @property
    def ou(self) -> str:
        """The OrganizationalUnit value that names this role in a certificate."""
        return f"{self.value:02X}"
