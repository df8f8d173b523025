"""A Communications Hub's way back (SECMP0010): the DUIS return its verdict calls for.

A hub found FAULT goes back to its provider with 8.14.3 (``CHFFaultReturn``) carrying the
CHFFaultReason of its deciding finding (``harness.triage.classify``); a hub with no fault
found with 8.14.4 (``CHFNoFaultReturn``). Any other verdict (INCONCLUSIVE, SKIPPED, ...) sends
nothing: a hub is returned on evidence only. The verdict words each value as the domain page
does ("damaged case"); the message carries the DUIS schema's enumeration token ("Damaged
case"), looked up here, so a report reads the same words as the specification while the DCC
gets what its schema accepts (``harness.protocols.duis.vocabulary``).

What the verdict cannot say comes from elsewhere: the fault return type from the returns
manifest (prior to / post installation) or the run's option, the connection method from the
run's option, the other device (the ESME the hub was seated on) from the Smart Metering
Inventory (8.2 of the hub), and the no-fault return type from the manifest's return reason
when it is one of the domain's no-fault types (else "general").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.domain.eui64 import eui64_duis, normalise_eui64
from harness.domain.vocabulary import ChFaultReason
from harness.drivers.dcc.service_requests import ServiceRequestsMixin
from harness.errors import OperationError
from harness.protocols.duis import ServiceResponse
from harness.protocols.duis.vocabulary import (
    CHFConnectionMethod,
    CHFFaultReason,
    CHFFaultReturnType,
    CHFNoFaultReturnType,
)
from harness.qa.site import entries
from harness.triage.classify import Verdict, VerdictKind
from harness.triage.gate import Gate
from harness.triage.intake import ReturnType

__all__ = ["CONNECTION_TOKEN", "FAULT_REASON_TOKEN", "FAULT_RETURN_TYPE_TOKEN",
           "NO_FAULT_TYPE_TOKEN", "HubReturn", "HubReturnError", "hub_return", "other_device_of",
           "send_hub_return"]

FAULT_REASON_TOKEN: Mapping[ChFaultReason, CHFFaultReason] = {
    ChFaultReason.DAMAGED_CASE: CHFFaultReason.DAMAGED_CASE,
    ChFaultReason.DAMAGED_CONNECTOR: CHFFaultReason.DAMAGED_CONNECTOR,
    ChFaultReason.INTERFERENCE_OR_SEALS: CHFFaultReason.ILLEGAL_INTERFERENCE_OR_MISSING_SEALS,
    ChFaultReason.ENVIRONMENTAL: CHFFaultReason.ENVIRONMENTAL_CONDITIONS_EXCEEDED,
    ChFaultReason.SM_WAN: CHFFaultReason.SM_WAN_FAULT,
    ChFaultReason.SM_HAN: CHFFaultReason.SM_HAN_INTERFACE_FAULT,
    ChFaultReason.LED: CHFFaultReason.LED_FAULT,
    ChFaultReason.AERIAL: CHFFaultReason.AERIAL_FAULT,
    ChFaultReason.MANUFACTURING: CHFFaultReason.MANUFACTURING_DEFECT,
}
"""The domain's words for each CHFFaultReason -> the DUIS schema's token."""

FAULT_RETURN_TYPE_TOKEN: Mapping[ReturnType, CHFFaultReturnType] = {
    ReturnType.PRIOR_TO_INSTALLATION: CHFFaultReturnType.PRIOR_TO_INSTALLATION,
    ReturnType.POST_INSTALLATION: CHFFaultReturnType.POST_INSTALLATION,
}
"""The manifest's return type -> CHFFaultReturnType."""

NO_FAULT_TYPE_TOKEN: Mapping[str, CHFNoFaultReturnType] = {
    "general": CHFNoFaultReturnType.GENERAL,
    "lost or stolen hub": CHFNoFaultReturnType.LOST_OR_STOLEN,
    "non-domestic opt-out": CHFNoFaultReturnType.NON_DOMESTIC_OPT_OUT,
    "sm wan variant replacement": CHFNoFaultReturnType.SM_WAN_VARIANT_REPLACEMENT,
    "dual supplier han variant replacement":
        CHFNoFaultReturnType.DUAL_SUPPLIER_HAN_VARIANT_REPLACEMENT,
}
"""The domain's no-fault return types (lower case) -> CHFNoFaultReturnType."""

CONNECTION_TOKEN: Mapping[str, CHFConnectionMethod] = {
    "cradle": CHFConnectionMethod.CRADLE,
    "esme": CHFConnectionMethod.ESME,
    "hot-shoe": CHFConnectionMethod.HOT_SHOE,
    "hot shoe": CHFConnectionMethod.HOT_SHOE,
}
"""The domain's connection methods (lower case) -> CHFConnectionMethod."""


class HubReturnError(OperationError):
    """A hub return cannot be made: what is missing or unknown, named (the step, not the
    device: its verdict stands)."""


@dataclass(frozen=True)
class HubReturn:
    """One 8.14.3 or 8.14.4 to send: the variant, the hub, and the builder's keywords (DUIS
    tokens); ``reason`` is the domain's words for a fault return's reason (for reports)."""

    variant: str
    device_id: str
    fields: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None

    def describe(self) -> str:
        """``8.14.3 00-DB-...: Damaged case (Fault identified post installation, ...)``."""
        values = ", ".join(f"{k}={v}" for k, v in self.fields.items())
        return f"{self.variant} {eui64_duis(self.device_id)}: {values}"


def hub_return(device_id: str, verdict: Verdict, *, return_type: ReturnType | str | None = None,
               return_reason: str | None = None, connection_method: str | None = None,
               other_device_id: str | None = None) -> HubReturn | None:
    """The return a hub's verdict calls for (None: the verdict returns nothing).

    A FAULT needs its reason (the verdict's), a return type (``return_type``: the manifest's
    or the run's), a ``connection_method`` and the ``other_device_id``; one missing or not in
    the vocabulary is a HubReturnError naming it. A NO FAULT FOUND takes the no-fault type
    the manifest's ``return_reason`` names, else "general"."""
    if verdict.kind is VerdictKind.NO_FAULT_FOUND:
        wanted = (return_reason or "").strip().lower()
        no_fault = NO_FAULT_TYPE_TOKEN.get(wanted, CHFNoFaultReturnType.GENERAL)
        return HubReturn("8.14.4", device_id, {"return_type": no_fault.value})
    if verdict.kind is not VerdictKind.FAULT:
        return None
    if verdict.duis_return_reason is None:
        raise HubReturnError(f"hub {device_id}: the FAULT ({verdict.category}) names no DUIS "
                             "return reason")
    try:
        reason = FAULT_REASON_TOKEN[ChFaultReason(verdict.duis_return_reason)]
    except ValueError:
        raise HubReturnError(f"hub {device_id}: {verdict.duis_return_reason!r} is not a "
                             "CHFFaultReason") from None
    if return_type is None:
        raise HubReturnError(f"hub {device_id}: the fault return type (prior to or post "
                             "installation) is unknown: the manifest does not say; give "
                             "--hub-return-type")
    try:
        kind = FAULT_RETURN_TYPE_TOKEN[ReturnType(return_type)]
    except ValueError:
        allowed = ", ".join(repr(t.value) for t in ReturnType)
        raise HubReturnError(f"hub {device_id}: return type {return_type!r} is not one of "
                             f"{allowed}") from None
    if connection_method is None:
        raise HubReturnError(f"hub {device_id}: the connection method is unknown: give "
                             "--hub-connection (cradle, esme or hot-shoe)")
    method = CONNECTION_TOKEN.get(connection_method.strip().lower())
    if method is None:
        raise HubReturnError(f"hub {device_id}: connection method {connection_method!r} is "
                             "not one of cradle, esme, hot-shoe")
    if other_device_id is None:
        raise HubReturnError(f"hub {device_id}: 8.14.3 needs the ESME the hub was seated on "
                             "(OtherDeviceID) and the Smart Metering Inventory lists none")
    return HubReturn("8.14.3", device_id, {
        "return_type": kind.value, "other_device_id": other_device_id,
        "connection_method": method.value, "reason": reason.value,
    }, reason=verdict.duis_return_reason)


# -- sending ------------------------------------------------------------------------------------


def other_device_of(dcc: ServiceRequestsMixin, hub_id: str) -> str | None:
    """The ESME the Smart Metering Inventory lists at hub ``hub_id`` (8.2 of the hub), as
    16 hex digits; None when it lists none."""
    response = dcc.read_inventory(hub_id)
    hub = eui64_duis(hub_id)
    for entry in entries(response.body):
        if entry.get("DeviceType") == "ESME" and entry.get("DeviceID") != hub:
            return normalise_eui64(str(entry["DeviceID"]))
    return None


def send_hub_return(dcc: ServiceRequestsMixin, gate: Gate, hub: HubReturn) -> ServiceResponse:
    """Send ``hub``'s 8.14.3 / 8.14.4 through ``dcc`` under the access gate: DUIS lets only an
    import or gas supplier (IS, GS) send them, so an operator acting as the supplier sends with
    the gate's Service Request permit, any other role only through the gate's audited Supplier
    fallback (refused and audited unless the run chose ``--fallback-supplier``); the adapter
    audits the request itself (``DESTRUCTIVE_VARIANTS``). Raises what the DCC or the gate
    raised (DccResponseError, AccessDeniedError)."""
    kind = "fault" if hub.variant == "8.14.3" else "no fault"
    why = f"return the hub with {hub.variant} ({kind} return)"
    with gate.service_requests(device_id=hub.device_id, instruments=None, why=why):
        if gate.role_name == "supplier":
            return dcc.ch_status_update(hub.variant, hub.device_id, **hub.fields)
        with gate.fallback_to_supplier(hub.variant, device_id=hub.device_id,
                                       why=f"{hub.variant} is for a supplier (DUIS IS, GS) "
                                           f"only; the acting role is {gate.role_name}"):
            return dcc.ch_status_update(hub.variant, hub.device_id, **hub.fields)
