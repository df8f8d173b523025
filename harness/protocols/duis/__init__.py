"""DUIS messages for the Service Request route: build, parse, sign, verify, check roles.

Pure codecs (no I/O), per DESIGN.md.  Facts: GB-SMART-METERING.md ("DUIS messages", "DUIS
Service Requests ... eligible roles", "Communications Hub returns vocabulary", "Certificates
and roles"); wire details from DCC's DUIS Schema V5.4 and reference requests (sources cited
in each module).  Anything named ``Proposed``/``MBP.*`` or in ``PROPOSAL_NS`` is meterbench's
PROPOSAL for SECMP0013's triage/reset requests and is not DUIS.
"""

from __future__ import annotations

from . import codes
from .alerts import DuisAlert, build_alert, parse_alert, parse_message
from .builders import (
    DCC_EUI64,
    ch_fault_return,
    ch_install_no_sm_wan,
    ch_install_success,
    ch_no_fault_return,
    ch_status_update,
    commission_device,
    decommission_device,
    format_datetime,
    pre_notification,
    read_event_log,
    read_firmware_version,
    read_inventory,
    read_supply_status,
    update_han_device_log,
    update_inventory,
)
from .errors import DuisAuthorisationError, DuisError, DuisSignatureError
from .ids import RequestId
from .messages import ServiceRequest, build_request, parse_request
from .namespaces import DS, NS, PROPOSAL_NS
from .proposals import RESET_VARIANT, TRIAGE_VARIANT, TriageCheck, reset_device, triage_device
from .responses import ServiceResponse, build_response, parse_response
from .roles import ELIGIBILITY, UserRole, check_eligible, eligible_roles
from .signing import sign, verify
from .variants import VARIANTS, VariantSpec, variant_spec
from .vocabulary import (
    CHFConnectionMethod,
    CHFFaultReason,
    CHFFaultReturnType,
    CHFInstallType,
    CHFLocation,
    CHFNoFaultReturnType,
    DuisDeviceType,
    LogToRead,
    PremiseType,
)

__all__ = [
    "DCC_EUI64",
    "DS",
    "ELIGIBILITY",
    "NS",
    "PROPOSAL_NS",
    "RESET_VARIANT",
    "TRIAGE_VARIANT",
    "VARIANTS",
    "CHFConnectionMethod",
    "CHFFaultReason",
    "CHFFaultReturnType",
    "CHFInstallType",
    "CHFLocation",
    "CHFNoFaultReturnType",
    "DuisAlert",
    "DuisAuthorisationError",
    "DuisDeviceType",
    "DuisError",
    "DuisSignatureError",
    "LogToRead",
    "PremiseType",
    "RequestId",
    "ServiceRequest",
    "ServiceResponse",
    "TriageCheck",
    "UserRole",
    "VariantSpec",
    "build_alert",
    "build_request",
    "build_response",
    "ch_fault_return",
    "ch_install_no_sm_wan",
    "ch_install_success",
    "ch_no_fault_return",
    "ch_status_update",
    "check_eligible",
    "codes",
    "commission_device",
    "decommission_device",
    "eligible_roles",
    "format_datetime",
    "parse_alert",
    "parse_message",
    "parse_request",
    "parse_response",
    "pre_notification",
    "read_event_log",
    "read_firmware_version",
    "read_inventory",
    "read_supply_status",
    "reset_device",
    "sign",
    "triage_device",
    "update_han_device_log",
    "update_inventory",
    "variant_spec",
    "verify",
]
