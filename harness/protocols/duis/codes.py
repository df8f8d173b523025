"""DUIS response codes used by meterbench, with where each comes from.

Real DUIS codes: the ``ResponseCode`` enumeration of DCC's DUIS Schema V5.4 (in
SmartDCCInnovation/dccboxed-signing-tool, ``src/main/resources/DUIS Schema V5.4.xsd``) lists
I0, I99, E1–E5, E11–E13, E17, E19–E21, E30, E31, E40–E71, E100, E1000+ and SRV-specific
``Eaabbcc`` codes; their meanings below are from a published "DCC Systems Response Codes"
table (iananthony3000.wixsite.com/smets2reference-1).  DCC Boxed answers ``I0`` on success
(dccboxed-signing-tool test resources, read-inventory-response-5.4.xml).

meterbench codes (``EMB..``): we found no published DUIS code for a malformed or badly
signed request or an unknown Service Reference Variant, so meterbench answers those with
codes of its own.  They are deliberately outside DUIS's pattern (letters after the ``E``) so
nobody mistakes them for DCC's; a real DCC may answer such requests differently (e.g. at the
HTTP layer).
"""

from __future__ import annotations

import re

__all__ = [
    "ACKNOWLEDGEMENT",
    "BAD_COMMAND_VARIANT",
    "DESCRIPTIONS",
    "DEVICE_NOT_FOUND",
    "INVALID_DEVICE_STATUS",
    "INVALID_USER",
    "MALFORMED",
    "MEANINGS",
    "ROLE_NOT_ELIGIBLE",
    "SIGNATURE_INVALID",
    "SIGNATURE_MISSING",
    "SIGNER_UNKNOWN",
    "SUCCESS",
    "UNKNOWN_VARIANT",
    "is_response_code",
    "is_success",
]

# --- real DUIS codes (DUIS Schema V5.4 enumeration; meanings: DCC Systems Response Codes) ---
SUCCESS = "I0"
ACKNOWLEDGEMENT = "I99"
INVALID_USER = "E1"
ROLE_NOT_ELIGIBLE = "E2"
INVALID_DEVICE_STATUS = "E5"
BAD_COMMAND_VARIANT = "E12"
DEVICE_NOT_FOUND = "E19"

# --- meterbench codes: NOT DUIS (no DUIS code found for these cases) ---
MALFORMED = "EMB01"
UNKNOWN_VARIANT = "EMB02"
SIGNATURE_MISSING = "EMB10"
SIGNATURE_INVALID = "EMB11"
SIGNER_UNKNOWN = "EMB12"

MEANINGS: dict[str, str] = {
    "I0": "Success: the request has had a successful outcome",
    "I99": "Acknowledgement: accepted and passed access control (or non-device success "
    "with no XML data)",
    "E1": "Failed Authorisation - invalid User / User Role (not a valid SEC party / role)",
    "E2": "Failed Authorisation - User Role not permitted to send this Service Reference",
    "E3": "Failed Authorisation - User Status not permitted to send this Service Reference",
    "E4": "Failed Authorisation - User Role not authorised for the Device at this time",
    "E5": "Failed Authorisation - Device SMI status incompatible with the Service Reference",
    "E11": "Failed Validation - Service Reference not compatible with the Device type",
    "E12": "Failed Validation - Command Variant not applicable to the request type",
    "E13": "Failed Validation - request type not valid for the URL",
    "E17": "Failed Authorisation - not available for Local Command Services",
    "E19": "Failed Authorisation - Device doesn't exist (Device ID invalid)",
    "E20": "Communications Failure - unable to communicate with the Device",
    "E21": "Communications Failure - no response received from the Device",
    "E30": "Time-out - future-dated command",
    "EMB01": "meterbench (not DUIS): malformed request - not well-formed XML, or a missing or "
    "invalid header element",
    "EMB02": "meterbench (not DUIS): unknown Service Reference Variant, or the header, variant "
    "and body do not agree",
    "EMB10": "meterbench (not DUIS): the request carries no XML signature",
    "EMB11": "meterbench (not DUIS): the XML signature does not verify (placeholder values, "
    "wrong key or altered content)",
    "EMB12": "meterbench (not DUIS): no trusted certificate matches the signature's issuer and "
    "serial number",
}
"""Meaning of each code meterbench uses or recognises by name."""

DESCRIPTIONS = MEANINGS  # alias: the word the emulator's error pages use

_DUIS_CODE = re.compile(r"^[IEW][0-9]{1,7}$")
_MB_CODE = re.compile(r"^EMB[0-9]{2}$")


def is_response_code(code: str) -> bool:
    """Whether ``code`` has the form of a DUIS response code or a meterbench ``EMB`` code."""
    return bool(_DUIS_CODE.match(code) or _MB_CODE.match(code))


def is_success(code: str) -> bool:
    """Whether ``code`` reports success (``I0``) or acknowledgement (``I99``)."""
    return code in (SUCCESS, ACKNOWLEDGEMENT)
