"""DCC's reference requests parse, with every field as the files hold it.

Expected values are written out from each file, and every leaf is also checked against the
file read independently with the standard library's ElementTree.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest
from duis_testdata import REFERENCE_DIR, reference_bytes

from harness.protocols.duis import (
    NS,
    DuisSignatureError,
    RequestId,
    codes,
    parse_request,
    verify,
)

DS = "{http://www.w3.org/2000/09/xmldsig#}"
SUPPLIER_TO_DCC = "90-B3-D5-1F-30-01-00-00:90-B3-D5-1F-30-00-00-02:1000"

EXPECTED: dict[str, dict[str, Any]] = {
    "12.2_DEVICE_PRE_NOTIFICATION_REQUEST_DUIS.XML": {
        "request_id": SUPPLIER_TO_DCC, "cv": 8, "sr": "12.2", "srv": "12.2", "schema": "5.2",
        "tag": "DevicePrenotification",
        "body": {"DeviceID": "00-DB-12-34-56-78-90-A0", "DeviceManufacturer": "AB01",
                 "DeviceModel": "010A030B", "DeviceType": "ESME",
                 "SMETSCHTSVersion": "SMETS V1.58", "FirmwareVersion": "0002012F",
                 "ESMEVariant": "AD"},
    },
    "8.2_READ_INVENTORY_REQUEST_DUIS.XML": {
        "request_id": SUPPLIER_TO_DCC, "cv": 8, "sr": "8.2", "srv": "8.2", "schema": "5.4",
        "tag": "ReadInventory", "body": {"DeviceID": "00-DB-12-34-56-78-90-A2"},
    },
    "8.3_DECOMMISSION_DEVICE_REQUEST_DUIS.XML": {
        "request_id": SUPPLIER_TO_DCC, "cv": 8, "sr": "8.3", "srv": "8.3", "schema": "5.4",
        "tag": "DecommissionDevice", "body": {"DeviceID": "00-DB-12-34-56-78-90-A0"},
    },
    "CCS01_8.11_SUCCESS_REQUEST_DUIS.XML": {
        "request_id": "90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A2:1002", "cv": 1,
        "sr": "8.11", "srv": "8.11", "schema": "5.4", "tag": "UpdateHANDeviceLog",
        "body": {"DeviceID": "00-DB-12-34-56-78-90-A0", "RequestType": "Add",
                 "AddDeviceToCHFWhitelist": {
                     "JoinTimePeriod": "90", "InstallCode": "30313233343536373839414243444546",
                     "ImportMPxN": "1312345678111", "SecondaryImportMPAN": "1312345678222"}},
    },
    "CS10a_6.13_SUCCESS_REQUEST_DUIS.XML": {
        "request_id": "90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A1:1002", "cv": 1,
        "sr": "6.13", "srv": "6.13", "schema": "5.2", "tag": "ReadEventOrSecurityLog",
        "body": {"ReadLogPeriod": {"StartDateTime": "2014-12-31T00:00:00.00Z",
                                   "EndDateTime": "2030-01-01T00:00:00.00Z"},
                 "LogToRead": "Event"},
    },
    "8.14.3_COMMUNICATIONS_HUB_STATUS_UPDATE_FAULT_RETURN_REQUEST_DUIS.XML": {
        "request_id": SUPPLIER_TO_DCC, "cv": 8, "sr": "8.14", "srv": "8.14.3", "schema": "5.4",
        "tag": "CHFFaultReturn",
        "body": {"DeviceID": "00-DB-12-34-56-78-90-A2",
                 "CHFFaultReturnType": "Fault identified prior to installation",
                 "OtherDeviceID": "00-DB-12-34-56-78-90-A0", "CHFConnectionMethod": "Hot-shoe",
                 "CHFFaultReason": "Damaged case"},
    },
    "8.14.4_COMMUNICATIONS_HUB_STATUS_UPDATE_NO_FAULT_RETURN_REQUEST_DUIS.XML": {
        "request_id": SUPPLIER_TO_DCC, "cv": 8, "sr": "8.14", "srv": "8.14.4", "schema": "5.4",
        "tag": "CHFNoFaultReturn",
        "body": {"DeviceID": "00-DB-12-34-56-78-90-A2",
                 "CHFNoFaultReturnType": "No Fault Return (general)"},
    },
}


def test_every_reference_file_is_covered() -> None:
    """Each file in the reference folder has expectations here (none silently skipped)."""
    reference_bytes(EXPECTED[0] if isinstance(EXPECTED, list | tuple) else next(iter(EXPECTED)))
    assert sorted(p.name for p in REFERENCE_DIR.glob("*.XML")) == sorted(EXPECTED)


def _leaves(element: ET.Element, prefix: str = "") -> dict[str, str]:
    """Leaf texts by dotted local-name path, read with the standard library."""
    found: dict[str, str] = {}
    for child in element:
        name = prefix + child.tag.split("}")[1]
        if len(child):
            found.update(_leaves(child, name + "."))
        else:
            found[name] = (child.text or "").strip()
    return found


def _flatten(value: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """The parser's body flattened the same way."""
    found: dict[str, str] = {}
    for key, item in value.items():
        if isinstance(item, dict):
            found.update(_flatten(item, f"{prefix}{key}."))
        else:
            found[prefix + key] = item
    return found


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_reference_request_parses_with_its_fields(name: str) -> None:
    """Header and body fields equal the file's values."""
    data = reference_bytes(name)
    expected = EXPECTED[name]
    request = parse_request(data, source=name)
    assert str(request.request_id) == expected["request_id"]
    assert request.request_id == RequestId.parse(expected["request_id"])
    assert request.command_variant == expected["cv"]
    assert request.service_reference == expected["sr"]
    assert request.variant == expected["srv"]
    assert request.schema_version == expected["schema"]
    assert request.body_tag == expected["tag"]
    assert request.body == expected["body"]
    assert request.proposal is False

    # independent read of the same file: every body leaf agrees
    root = ET.fromstring(data)
    body = root.find(f"{{{NS}}}Body")
    assert body is not None
    (inner,) = list(body)
    assert _leaves(inner) == _flatten(request.body)
    header = {child.tag.split("}")[1]: child.text for child in root.find(f"{{{NS}}}Header")}
    assert header["RequestID"] == str(request.request_id)
    assert header["ServiceReferenceVariant"] == request.variant


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_relaxed_verify_accepts_placeholder_signature(name: str) -> None:
    """Relaxed checking accepts DCC's placeholder signature and names no signer."""
    assert verify(reference_bytes(name), [], relaxed=True) is None


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_strict_verify_rejects_placeholder_as_badly_signed(name: str, supplier) -> None:
    """Strict checking rejects the placeholders as a bad signature, located in the file."""
    data = reference_bytes(name)
    with pytest.raises(DuisSignatureError) as caught:
        verify(data, [supplier.certificate], source=name)
    error = caught.value
    assert error.response_code == codes.SIGNATURE_INVALID
    assert "placeholder" in error.message
    assert error.source == name
    assert error.path == "/sr:Request/ds:Signature/ds:SignatureValue"
    root = ET.fromstring(data)
    lines = data.decode().splitlines()
    assert "<ds:SignatureValue>" in lines[error.line - 1]
    assert root.find(f"{DS}Signature") is not None
