"""DUIS value vocabularies for the Service Requests meterbench builds.

Communications Hub returns (8.14.x): the vocabulary is GB-SMART-METERING.md, "Communications
Hub returns vocabulary"; the exact strings are the enumerations of DCC's DUIS Schema V5.4
(``CHFFaultReason``, ``CHFFaultReturnType``, ``CHFNoFaultReturnType``, ``CHFConnectionMethod``,
``CHFInstallType``, ``CHFLocation``, ``PremiseType``), which the reference requests use.
Also from that schema: ``LogToRead`` (6.13), the device types of ``DeviceType`` and the
statuses 8.4 may set (``UpdateDeviceStatusExceptCH`` / ``UpdateDeviceStatusCH``).
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "CH_SETTABLE_STATUSES",
    "NON_CH_SETTABLE_STATUSES",
    "CHFConnectionMethod",
    "CHFFaultReason",
    "CHFFaultReturnType",
    "CHFInstallType",
    "CHFLocation",
    "CHFNoFaultReturnType",
    "DuisDeviceType",
    "LogToRead",
    "PremiseType",
    "checked",
]


class CHFFaultReason(StrEnum):
    """Why a CH is returned as faulty (8.14.3)."""

    DAMAGED_CASE = "Damaged case"
    DAMAGED_CONNECTOR = "Damaged Connector"
    ILLEGAL_INTERFERENCE_OR_MISSING_SEALS = "Illegal interference or missing seals"
    ENVIRONMENTAL_CONDITIONS_EXCEEDED = "Environmental conditions exceeded"
    SM_WAN_FAULT = "SM WAN Fault"
    SM_HAN_INTERFACE_FAULT = "SMHAN Interface Fault"
    LED_FAULT = "LED Fault"
    AERIAL_FAULT = "Aerial fault"
    MANUFACTURING_DEFECT = "Manufacturing defect"


class CHFFaultReturnType(StrEnum):
    """When the fault was found (8.14.3)."""

    PRIOR_TO_INSTALLATION = "Fault identified prior to installation"
    POST_INSTALLATION = "Fault identified post installation"


class CHFNoFaultReturnType(StrEnum):
    """Why a CH with no fault is returned (8.14.4)."""

    GENERAL = "No Fault Return (general)"
    NON_DOMESTIC_OPT_OUT = "No Fault Return (non-dom opt out)"
    DUAL_SUPPLIER_HAN_VARIANT_REPLACEMENT = (
        "No Fault Return (dual supplier HAN variant replacement)"
    )
    SM_WAN_VARIANT_REPLACEMENT = "No Fault Return (SM WAN variant replacement requested by DCC)"
    LOST_OR_STOLEN = "Lost or Stolen Hub"


class CHFConnectionMethod(StrEnum):
    """How the CH was connected (8.14.3)."""

    HOT_SHOE = "Hot-shoe"
    CRADLE = "Cradle"
    ESME = "ESME"


class CHFInstallType(StrEnum):
    """Kind of CH installation (8.14.1 / 8.14.2)."""

    NEW = "New CHF Install"
    REPLACEMENT = "Replacement CHF Install"
    NO_SM_WAN = "CHF Install - no SM WAN"


class CHFLocation(StrEnum):
    """Where the CH was installed (8.14.1 / 8.14.2)."""

    OUTSIDE_PREMISES = "Outside Premises"
    INDOORS_ON_EXTERNAL_WALL = "Indoors on external wall"
    DEEP_INDOORS = "Deep indoors"
    BASEMENT_OR_CELLAR = "Basement or Cellar"


class PremiseType(StrEnum):
    """Kind of premises (8.14.2)."""

    DETACHED_OR_SEMI = "Detached / Semi Detached"
    TERRACED = "Terraced"
    LOW_RISE_APARTMENT = "Low Rise Apartment (MDU <= 5 floors)"
    HIGH_RISE_APARTMENT = "High Rise Apartment (MDU > 5 floors)"


class LogToRead(StrEnum):
    """Which log 6.13 reads."""

    EVENT = "Event"
    ALCS_EVENT = "ALCSEvent"
    POWER_EVENT = "PowerEvent"
    SECURITY = "Security"
    GSME_EVENT = "GSMEEvent"
    GSME_SECURITY = "GSMESecurity"


class DuisDeviceType(StrEnum):
    """DUIS ``DeviceType`` names (12.2 pre-notification, inventory)."""

    ESME = "ESME"
    GSME = "GSME"
    GPF = "GPF"
    CHF = "CHF"
    HCALCS = "HCALCS"
    PPMID = "PPMID"
    IHD = "IHD"
    CAD = "CAD"


NON_CH_SETTABLE_STATUSES = frozenset({"Pending", "InstalledNotCommissioned"})
"""Statuses 8.4 may set on a device other than a CH (``UpdateDeviceStatusExceptCH``)."""

CH_SETTABLE_STATUSES = frozenset({"Commissioned", "Withdrawn", "InstalledNotCommissioned"})
"""Statuses 8.4 may set on a CH (``UpdateDeviceStatusCH``)."""


def checked(vocabulary: type[StrEnum], value: str, what: str) -> str:
    """``value`` as its exact DUIS string; ValueError listing the vocabulary if it is not in it."""
    try:
        return vocabulary(value).value
    except ValueError:
        allowed = "; ".join(repr(member.value) for member in vocabulary)
        raise ValueError(f"{what}: {value!r} is not one of {allowed}") from None
