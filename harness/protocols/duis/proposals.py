"""meterbench's PROPOSED triage and reset Service Requests.  NOT DUIS.

SECMP0013's original solution (GB-SMART-METERING.md, "Why triage exists") would add Service
Requests so a Supplier or RSA can triage and reset any SMETS2 meter through the DCC.  They do
not exist in DUIS today; everything here is meterbench's proposal, so it is marked as such on
the wire: the body element lives in ``PROPOSAL_NS`` (not DUIS's namespace), its name starts
with ``Proposed``, and the variants are ``MBP.1`` / ``MBP.2`` (not DUIS numbers).

What the bodies hold comes from the domain page: triage rules out HAN or WAN issues before a
device is declared faulty; a reset must at minimum reset the SMKI certificates, make the
device re-join the HAN using its install code, and make all consumer data unavailable.
Eligibility (roles.py) is the proposal's conservative choice: IS and GS only.
"""

from __future__ import annotations

from enum import StrEnum

from harness.domain.eui64 import eui64_duis

from .codes import MALFORMED
from .errors import DuisError
from .ids import RequestId
from .messages import ServiceRequest
from .namespaces import PROPOSAL_NS
from .variants import variant_spec

__all__ = [
    "PROPOSAL_NS",
    "RESET_ACTIONS",
    "RESET_VARIANT",
    "TRIAGE_VARIANT",
    "TriageCheck",
    "reset_device",
    "triage_device",
]

TRIAGE_VARIANT = "MBP.1"
"""PROPOSED (not DUIS): Triage Device."""
RESET_VARIANT = "MBP.2"
"""PROPOSED (not DUIS): Reset Device."""

RESET_ACTIONS = (
    "ResetSecurityCredentials",
    "RejoinHANUsingInstallCode",
    "MakeConsumerDataUnavailable",
)
"""The minimum a reset must do (GB-SMART-METERING.md), as the proposal's body elements."""


class TriageCheck(StrEnum):
    """PROPOSED (not DUIS): what a triage request asks the device route to check."""

    HAN = "HAN"
    WAN = "WAN"
    EVENT_LOG = "EventLog"
    SECURITY_LOG = "SecurityLog"
    FIRMWARE = "Firmware"


def _proposal(variant: str, request_id: RequestId, body_tag: str, body: dict[str, object]
              ) -> ServiceRequest:
    """A proposal request: DUIS header layout, body in PROPOSAL_NS, ``proposal=True``."""
    spec = variant_spec(variant)
    return ServiceRequest(
        request_id=request_id,
        command_variant=min(spec.command_variants),
        service_reference=spec.service_reference,
        variant=variant,
        body_tag=body_tag,
        body=body,
        proposal=True,
    )


def triage_device(
    request_id: RequestId,
    device_id: str,
    *,
    checks: tuple[TriageCheck | str, ...] = (TriageCheck.HAN, TriageCheck.WAN),
) -> ServiceRequest:
    """PROPOSED (not DUIS) MBP.1: triage ``device_id``, running ``checks`` (HAN and WAN by default).

    The default follows the domain page: users want to rule out HAN or WAN issues first.
    """
    if not checks:
        raise DuisError("a triage needs at least one check", response_code=MALFORMED,
                        source="triage_device", path="Check")
    try:
        names = [TriageCheck(check).value for check in checks]
    except ValueError:
        allowed = ", ".join(c.value for c in TriageCheck)
        raise DuisError(f"unknown triage check in {checks!r}; known: {allowed}",
                        response_code=MALFORMED, source="triage_device", path="Check") from None
    body: dict[str, object] = {
        "DeviceID": eui64_duis(device_id),
        # one element gives a string, several a list: the same shape parsing gives back
        "Check": names[0] if len(names) == 1 else names,
    }
    return _proposal(TRIAGE_VARIANT, request_id, "ProposedTriageDevice", body)


def reset_device(request_id: RequestId, device_id: str) -> ServiceRequest:
    """PROPOSED (not DUIS) MBP.2: reset ``device_id`` to its original state.

    The body states the three minimum actions of a reset (RESET_ACTIONS), each ``true``.
    """
    body: dict[str, object] = {"DeviceID": eui64_duis(device_id)}
    body.update({action: "true" for action in RESET_ACTIONS})
    return _proposal(RESET_VARIANT, request_id, "ProposedResetDevice", body)
