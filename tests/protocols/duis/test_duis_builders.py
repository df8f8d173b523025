"""Builders produce what DCC's examples look like, and every built request parses back equal."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from duis_testdata import reference_bytes
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from harness.protocols.duis import (
    DCC_EUI64,
    NS,
    PROPOSAL_NS,
    CHFConnectionMethod,
    CHFFaultReason,
    CHFFaultReturnType,
    CHFLocation,
    CHFNoFaultReturnType,
    DuisError,
    LogToRead,
    PremiseType,
    RequestId,
    ServiceRequest,
    TriageCheck,
    build_request,
    ch_fault_return,
    ch_install_no_sm_wan,
    ch_install_success,
    ch_no_fault_return,
    ch_status_update,
    codes,
    commission_device,
    decommission_device,
    parse_request,
    pre_notification,
    read_event_log,
    read_firmware_version,
    read_inventory,
    read_supply_status,
    reset_device,
    triage_device,
    update_han_device_log,
    update_inventory,
)

SUPPLIER = "90B3D51F30010000"
ESME = "00DB1234567890A0"
GSME = "00DB1234567890A1"
CHF = "00DB1234567890A2"
TO_DCC = RequestId(SUPPLIER, DCC_EUI64, 1000)
UTC = dt.UTC


def _shape(xml: bytes) -> list[tuple[str, str]]:
    """(Clark tag, text) of every element in document order, the signature left out."""
    root = etree.fromstring(xml)
    shape = [(root.tag, root.get("schemaVersion", ""))]
    for element in root.iter():
        if element is root or not isinstance(element.tag, str):
            continue
        if any(a.tag == "{http://www.w3.org/2000/09/xmldsig#}Signature"
               for a in [element, *element.iterancestors()]):
            continue
        shape.append((element.tag, (element.text or "").strip()))
    return shape


REFERENCE_BUILDS: dict[str, Callable[[], ServiceRequest]] = {
    "12.2_DEVICE_PRE_NOTIFICATION_REQUEST_DUIS.XML": lambda: pre_notification(
        TO_DCC, "00-DB-12-34-56-78-90-A0", manufacturer="AB01", model="010A030B",
        device_type="ESME", smets_chts_version="SMETS V1.58", firmware_version="0002012F",
        esme_variant="AD", schema_version="5.2"),
    "8.2_READ_INVENTORY_REQUEST_DUIS.XML": lambda: read_inventory(TO_DCC, CHF),
    "8.3_DECOMMISSION_DEVICE_REQUEST_DUIS.XML": lambda: decommission_device(TO_DCC, ESME),
    "CCS01_8.11_SUCCESS_REQUEST_DUIS.XML": lambda: update_han_device_log(
        RequestId(SUPPLIER, CHF, 1002), ESME, install_code="30313233343536373839414243444546",
        join_time_period=90, import_mpxn="1312345678111",
        secondary_import_mpan="1312345678222"),
    "CS10a_6.13_SUCCESS_REQUEST_DUIS.XML": lambda: read_event_log(
        RequestId(SUPPLIER, GSME, 1002), start=dt.datetime(2014, 12, 31, tzinfo=UTC),
        end=dt.datetime(2030, 1, 1, tzinfo=UTC), log=LogToRead.EVENT, schema_version="5.2"),
    "8.14.3_COMMUNICATIONS_HUB_STATUS_UPDATE_FAULT_RETURN_REQUEST_DUIS.XML":
        lambda: ch_fault_return(
            TO_DCC, CHF, return_type=CHFFaultReturnType.PRIOR_TO_INSTALLATION,
            other_device_id=ESME, connection_method=CHFConnectionMethod.HOT_SHOE,
            reason=CHFFaultReason.DAMAGED_CASE),
    "8.14.4_COMMUNICATIONS_HUB_STATUS_UPDATE_NO_FAULT_RETURN_REQUEST_DUIS.XML":
        lambda: ch_no_fault_return(TO_DCC, CHF),
}


@pytest.mark.parametrize("name", sorted(REFERENCE_BUILDS))
def test_built_request_matches_dcc_example(name: str) -> None:
    """Same elements, same order, same values as DCC's reference request (signature aside)."""
    built = build_request(REFERENCE_BUILDS[name]())
    assert _shape(built) == _shape(reference_bytes(name))


def _all_builders() -> dict[str, ServiceRequest]:
    """One request from every builder, optional fields exercised where a builder has them."""
    now = dt.datetime(2026, 5, 1, 12, 30, 15, 250_000, tzinfo=UTC)
    to_esme = RequestId(SUPPLIER, ESME, 7)
    return {
        "12.2 GSME": pre_notification(TO_DCC, GSME, manufacturer="AB01", model="0A0B",
                                      device_type="GSME", associated_gpf_id="00DB1234567890A3"),
        "8.2 device": read_inventory(TO_DCC, ESME),
        "8.2 mpxn": read_inventory(TO_DCC, mpxn="1312345678111"),
        "8.4 status": update_inventory(TO_DCC, ESME, status="InstalledNotCommissioned"),
        "8.4 CH status": update_inventory(TO_DCC, CHF, status="Withdrawn", ch=True),
        "8.4 delete": update_inventory(TO_DCC, ESME, delete=True),
        "8.4 mpxn": update_inventory(TO_DCC, ESME, import_mpxn="1312345678111"),
        "8.11 add": update_han_device_log(RequestId(SUPPLIER, CHF, 8), ESME,
                                          install_code=bytes(range(16)), export_mpan="1" * 13,
                                          execution_datetime=now),
        "8.11 remove": update_han_device_log(RequestId(SUPPLIER, CHF, 9), ESME, add=False),
        "8.1.1": commission_device(to_esme, current_datetime=now, tolerance_period=300),
        "8.3": decommission_device(TO_DCC, ESME),
        "6.13 security": read_event_log(to_esme, start=now - dt.timedelta(days=1), end=now,
                                        log="Security"),
        "7.4": read_supply_status(to_esme),
        "11.2": read_firmware_version(to_esme),
        "11.2 future": read_firmware_version(to_esme, execution_datetime=now),
        "8.14.1": ch_install_success(TO_DCC, CHF, mpxn="1000999888", aerial_install=True,
                                     location=CHFLocation.BASEMENT_OR_CELLAR,
                                     install_datetime=now, user_ref_id="QA-1"),
        "8.14.2": ch_install_no_sm_wan(TO_DCC, CHF, mpxn="1000999888", aerial_install=False,
                                       location="Deep indoors",
                                       premise_type=PremiseType.LOW_RISE_APARTMENT,
                                       metal_obstruction=False, connectivity_obstruction=True,
                                       shared_obstruction=False),
        "8.14.3": ch_status_update("8.14.3", TO_DCC, CHF,
                                   return_type="Fault identified post installation",
                                   other_device_id=ESME, connection_method="Cradle",
                                   reason=CHFFaultReason.SM_WAN_FAULT,
                                   incident_reference="INC42", additional_information="a--b"),
        "8.14.4": ch_no_fault_return(TO_DCC, CHF, return_type=CHFNoFaultReturnType.LOST_OR_STOLEN),
        "proposed triage": triage_device(to_esme, ESME),
        "proposed triage one check": triage_device(to_esme, ESME, checks=(TriageCheck.WAN,)),
        "proposed reset": reset_device(to_esme, ESME),
    }


@pytest.mark.parametrize("label", sorted(_all_builders()))
def test_build_then_parse_round_trip(label: str) -> None:
    """parse_request(build_request(r)) == r for every builder."""
    request = _all_builders()[label]
    assert parse_request(build_request(request)) == request


def test_ch_status_update_covers_all_four_variants() -> None:
    """The dispatcher builds each 8.14.x variant and refuses others."""
    built = _all_builders()
    assert [built[f"8.14.{n}"].variant for n in (1, 2, 3, 4)] == [
        "8.14.1", "8.14.2", "8.14.3", "8.14.4"]
    with pytest.raises(DuisError):
        ch_status_update("8.13", TO_DCC, CHF)


def test_proposals_are_labelled_not_duis() -> None:
    """Proposed requests: own namespace, Proposed* names, MBP variants, proposal flag."""
    for request in (triage_device(TO_DCC, ESME), reset_device(TO_DCC, ESME)):
        assert request.proposal is True
        assert request.variant.startswith("MBP.")
        assert request.body_tag.startswith("Proposed")
        root = etree.fromstring(build_request(request))
        body = root.find(f"{{{NS}}}Body")
        (inner,) = list(body)
        assert etree.QName(inner).namespace == PROPOSAL_NS != NS
        assert "not-duis" in PROPOSAL_NS
    reset = reset_device(TO_DCC, ESME)
    assert all(reset.body[action] == "true" for action in
               ("ResetSecurityCredentials", "RejoinHANUsingInstallCode",
                "MakeConsumerDataUnavailable"))


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: read_inventory(TO_DCC), "ReadInventory"),
        (lambda: update_inventory(TO_DCC, ESME, status="Commissioned"),
         "UpdateDeviceStatusExceptCH"),
        (lambda: update_inventory(TO_DCC, ESME, status="Pending", delete=True),
         "UpdateInventory"),
        (lambda: update_han_device_log(TO_DCC, ESME), "AddDeviceToCHFWhitelist.InstallCode"),
        (lambda: update_han_device_log(TO_DCC, ESME, install_code="ABCD"), "InstallCode"),
        (lambda: update_han_device_log(TO_DCC, ESME, install_code="00" * 8,
                                       join_time_period=0), "JoinTimePeriod"),
        (lambda: commission_device(TO_DCC, current_datetime=dt.datetime(2026, 1, 1),
                                   tolerance_period=1), "CurrentDateTime"),
        (lambda: commission_device(TO_DCC, current_datetime=dt.datetime.now(UTC),
                                   tolerance_period=90_000), "TolerancePeriod"),
        (lambda: ch_fault_return(TO_DCC, CHF, return_type="Broken", other_device_id=ESME,
                                 connection_method="Cradle", reason="Damaged case"),
         "CHFFaultReturnType"),
        (lambda: pre_notification(TO_DCC, ESME, manufacturer="X", model="Y",
                                  device_type="TOASTER"), "DeviceType"),
        (lambda: decommission_device(TO_DCC, "not-an-eui"), "DeviceID"),
        (lambda: triage_device(TO_DCC, ESME, checks=("Gravity",)), "Check"),
    ],
)
def test_builder_rejects_bad_argument_naming_the_field(make: Callable[[], object],
                                                        field: str) -> None:
    """A bad argument is a DuisError (EMB01) whose path names the field."""
    with pytest.raises(DuisError) as caught:
        make()
    assert caught.value.response_code == codes.MALFORMED
    assert caught.value.path == field


eui64 = st.binary(min_size=8, max_size=8).map(lambda b: b.hex().upper())
counters = st.integers(min_value=0, max_value=2**64 - 1)


@given(originator=eui64, target=eui64, counter=counters)
def test_request_id_round_trips(originator: str, target: str, counter: int) -> None:
    """str -> parse is the identity; the text is DUIS's dashed form."""
    request_id = RequestId(originator, target, counter)
    text = str(request_id)
    assert RequestId.parse(text) == request_id
    assert RequestId.parse(text.lower()) == request_id
    assert text.count("-") == 14 and text.count(":") == 2
    assert request_id.response_id().response_id() == request_id


@given(originator=eui64, target=eui64, counter=counters, device=eui64)
def test_built_request_id_survives_xml(originator: str, target: str, counter: int,
                                       device: str) -> None:
    """Any RequestID and DeviceID survive a trip through the XML."""
    request = read_inventory(RequestId(originator, target, counter), device)
    parsed = parse_request(build_request(request))
    assert parsed == request
    assert parsed.body_device_id == device


@pytest.mark.parametrize("text", [
    "", "90-B3-D5-1F-30-01-00-00:90-B3-D5-1F-30-00-00-02", "90B3D51F30010000:00DB1234567890A0:1",
    "90-B3-D5-1F-30-01-00-00:90-B3-D5-1F-30-00-00-02:-1",
    "90-B3-D5-1F-30-01-00-00:90-B3-D5-1F-30-00-00-02:18446744073709551616",
    "90-B3-D5-1F-30-01-00-00:90-B3-D5-1F-30-00-00-0G:1",
    "90-B3-D5-1F-30-01-00-00:90-B3-D5-1F-30-00-00-02:01",
])
def test_request_id_rejects_malformed_text(text: str) -> None:
    """Wrong separators, digits, counters (negative, too big, leading zero) are refused."""
    with pytest.raises(ValueError, match="RequestID"):
        RequestId.parse(text)
