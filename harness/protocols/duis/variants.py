"""The Service Reference Variants meterbench knows: name, Service Reference, body, Command Variants.

Sources: DCC's DUIS Schema V5.4 (``ServiceReferenceVariant`` enumeration with the allowed
Command Variants in its comments, and the ``Request`` body choice naming each body element);
the DUIS reference requests (SmartDCCInnovation/duis-templates) for 12.2, 8.2, 8.3, 8.4,
8.11, 6.13, 8.14.x and 11.2; names from GB-SMART-METERING.md, "DUIS Service Requests".
Where the body element of a variant was not confirmed (6.2.x), ``body_tag`` is None and the
body is not checked.  The ``MBP.*`` variants are meterbench's PROPOSED triage/reset requests
(SECMP0013's original solution): they are NOT DUIS, and their body lives in ``PROPOSAL_NS``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .codes import UNKNOWN_VARIANT
from .errors import DuisError

__all__ = ["VARIANTS", "VariantSpec", "variant_spec"]

_DEVICE = frozenset({1, 2, 3})  # CV 1-3: sent to a device (schema comment "CV = 1, 2, 3")
_CRITICAL = frozenset({4, 5, 6, 7})  # CV 4-7: transform / signed pre-command
_DCC_ONLY = frozenset({8})  # CV 8: non-device request answered by the DCC


@dataclass(frozen=True)
class VariantSpec:
    """What a Service Reference Variant looks like on the wire."""

    variant: str
    name: str
    service_reference: str
    body_tag: str | None
    command_variants: frozenset[int]
    proposal: bool = False


def _spec(variant: str, name: str, reference: str, body: str | None, cvs: frozenset[int]
          ) -> VariantSpec:
    """Shorthand for a DUIS variant."""
    return VariantSpec(variant, name, reference, body, cvs)


_SPECS = [
    _spec("3.3", "Clear Event Log", "3.3", "ClearEventLog", _DEVICE),
    *(
        _spec(f"6.2.{n}", "Read Device Configuration", "6.2", None, _DEVICE)
        for n in (1, 2, 3, 4, 5, 7, 8, 9, 10)
    ),
    _spec("6.13", "Read Event or Security Log", "6.13", "ReadEventOrSecurityLog", _DEVICE),
    _spec("6.15.1", "Update Security Credentials (KRP)", "6.15", "UpdateSecurityCredentialsKRP",
          _CRITICAL),
    _spec("6.15.2", "Update Security Credentials (Device)", "6.15",
          "UpdateSecurityCredentialsDevice", _CRITICAL),
    _spec("6.23", "Update Security Credentials (CoS)", "6.23", "UpdateSecurityCredentialsCoS",
          _DEVICE),
    _spec("7.4", "Read Supply Status", "7.4", "ReadSupplyStatus", _DEVICE),
    _spec("8.1.1", "Commission Device", "8.1", "CommissionDeviceSynchroniseClock",
          frozenset({4, 5})),
    _spec("8.2", "Read Inventory", "8.2", "ReadInventory", _DCC_ONLY),
    _spec("8.3", "Decommission Device", "8.3", "DecommissionDevice", _DCC_ONLY),
    _spec("8.4", "Update Inventory", "8.4", "UpdateInventory", _DCC_ONLY),
    _spec("8.7.1", "Join Service (Critical)", "8.7", "JoinServiceCritical", _CRITICAL),
    _spec("8.7.2", "Join Service (Non-Critical)", "8.7", "JoinServiceNonCritical", _DEVICE),
    _spec("8.8.1", "Unjoin Service (Critical)", "8.8", "UnjoinServiceCritical", _CRITICAL),
    _spec("8.8.2", "Unjoin Service (Non-Critical)", "8.8", "UnjoinServiceNonCritical", _DEVICE),
    _spec("8.9", "Read Device Log", "8.9", "ReadDeviceLog", _DEVICE),
    _spec("8.11", "Update HAN Device Log", "8.11", "UpdateHANDeviceLog", _DEVICE),
    _spec("8.14.1", "CH Status Update - Install Success", "8.14", "CHFInstallSuccessSMWAN",
          _DCC_ONLY),
    _spec("8.14.2", "CH Status Update - Install No SM WAN", "8.14", "CHFInstallSuccessNoSMWAN",
          _DCC_ONLY),
    _spec("8.14.3", "CH Status Update - Fault Return", "8.14", "CHFFaultReturn", _DCC_ONLY),
    _spec("8.14.4", "CH Status Update - No Fault Return", "8.14", "CHFNoFaultReturn", _DCC_ONLY),
    _spec("11.2", "Read Firmware Version", "11.2", "ReadFirmwareVersion", _DEVICE),
    _spec("12.2", "Device Pre-notification", "12.2", "DevicePrenotification", _DCC_ONLY),
    # meterbench PROPOSALS (SECMP0013 original solution) - NOT DUIS; the Command Variants are
    # meterbench's choice: device requests, as a DUIS read of a device would be.
    VariantSpec("MBP.1", "PROPOSED Triage Device (not in DUIS)", "MBP.1",
                "ProposedTriageDevice", _DEVICE, proposal=True),
    VariantSpec("MBP.2", "PROPOSED Reset Device (not in DUIS)", "MBP.2",
                "ProposedResetDevice", _DEVICE, proposal=True),
]

VARIANTS: dict[str, VariantSpec] = {spec.variant: spec for spec in _SPECS}
"""Every variant meterbench can parse, build or check eligibility for, by SRV."""


def variant_spec(variant: str, **where: Any) -> VariantSpec:
    """The spec of ``variant``; a DuisError (EMB02) if meterbench does not know it."""
    spec = VARIANTS.get(variant)
    if spec is None:
        known = ", ".join(VARIANTS)
        raise DuisError(
            f"unknown Service Reference Variant {variant!r}; known: {known}",
            response_code=UNKNOWN_VARIANT,
            **where,
        )
    return spec
