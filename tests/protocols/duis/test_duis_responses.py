"""Service Responses: DCC Boxed's structure, round trips, error answers with their codes."""

from __future__ import annotations

import datetime as dt

import pytest
from lxml import etree

from harness.protocols.duis import (
    NS,
    DuisError,
    RequestId,
    ServiceResponse,
    build_response,
    codes,
    parse_request,
    parse_response,
)

REQUEST_ID = RequestId("90B3D51F30010000", "00DB1234567890A0", 1655991767747)
WHEN = dt.datetime(2026, 5, 1, 9, 37, 56, 134_000, tzinfo=dt.UTC)


def test_success_response_has_dcc_boxed_structure() -> None:
    """Header: RequestID, ResponseID, ResponseCode, ResponseDateTime; then ResponseMessage."""
    response = ServiceResponse(
        request_id=REQUEST_ID, variant="11.2", response_code="I0",
        response_id=str(REQUEST_ID.response_id()), body_tag="GBCSPayload",
        body={"#text": "3QAAAAAAAFURAAAAAN8JAgAAAYGQ"}, response_datetime=WHEN)
    root = etree.fromstring(build_response(response))
    names = [etree.QName(e).localname for e in root.iter() if isinstance(e.tag, str)]
    assert names == ["Response", "Header", "RequestID", "ResponseID", "ResponseCode",
                     "ResponseDateTime", "Body", "ResponseMessage", "ServiceReference",
                     "ServiceReferenceVariant", "GBCSPayload"]
    assert root.findtext(f".//{{{NS}}}ResponseDateTime") == "2026-05-01T09:37:56.134Z"
    assert root.findtext(f".//{{{NS}}}ResponseID") == \
        "00-DB-12-34-56-78-90-A0:90-B3-D5-1F-30-01-00-00:1655991767747"
    assert parse_response(build_response(response)) == response


def test_inventory_response_round_trips() -> None:
    """A nested payload with repeated Device elements."""
    devices = [
        {"DeviceID": "00-DB-12-34-56-78-90-A0", "DeviceType": "ESME",
         "DeviceStatus": "Whitelisted"},
        {"DeviceID": "00-DB-12-34-56-78-90-A2", "DeviceType": "CHF",
         "DeviceStatus": "Commissioned"},
    ]
    response = ServiceResponse(REQUEST_ID, "8.2", "I0", body_tag="DSPInventory",
                               body={"Device": devices}, response_datetime=WHEN)
    parsed = parse_response(build_response(response))
    assert parsed == response
    assert parsed.success


def test_parses_a_response_written_the_dcc_boxed_way() -> None:
    """Unindented, extra namespace declarations, ``ra`` prefix unused: as DCC Boxed sends."""
    text = (
        '<?xml version="1.0" encoding="UTF-8" standalone="no"?><sr:Response '
        'xmlns:sr="http://www.dccinterface.co.uk/ServiceUserGateway" '
        'xmlns:ns3="http://www.w3.org/2000/09/xmldsig#" '
        'xmlns:ra="http://www.dccinterface.co.uk/ResponseAndAlert" schemaVersion="5.1">'
        "<sr:Header><sr:RequestID>90-B3-D5-1F-30-01-00-00:88-73-84-57-00-2F-96-6C:17"
        "</sr:RequestID><sr:ResponseCode>E65</sr:ResponseCode><sr:ResponseDateTime>"
        "2022-07-22T09:37:56.134Z</sr:ResponseDateTime></sr:Header><sr:Body>"
        "<sr:ResponseMessage><sr:ServiceReference>11.2</sr:ServiceReference>"
        "<sr:ServiceReferenceVariant>11.2</sr:ServiceReferenceVariant></sr:ResponseMessage>"
        "</sr:Body></sr:Response>"
    )
    response = parse_response(text.encode())
    assert response.response_code == "E65" and not response.success
    assert response.request_id == RequestId("90B3D51F30010000", "88738457002F966C", 17)
    assert response.variant == "11.2" and response.body_tag is None
    assert response.response_datetime == dt.datetime(2022, 7, 22, 9, 37, 56, 134_000,
                                                     tzinfo=dt.UTC)


def test_error_response_carries_code_and_reason() -> None:
    """A DuisError becomes the response a user sees: its code, its text as the reason."""
    with pytest.raises(DuisError) as caught:
        parse_request(b"<a>", source="POST /services")
    response = ServiceResponse.from_error(caught.value)
    response.response_datetime = WHEN
    xml = build_response(response)
    parsed = parse_response(xml)
    assert parsed.response_code == codes.MALFORMED
    assert parsed.request_id is None and parsed.variant == ""
    assert parsed.message == str(caught.value)
    assert b"meterbench reason:" in xml


def test_reason_with_double_hyphen_stays_a_valid_comment() -> None:
    """``--`` cannot appear in an XML comment; the reason is kept readable."""
    response = ServiceResponse(REQUEST_ID, "8.3", "E2", message="role RSA -- not eligible-",
                               response_datetime=WHEN)
    parsed = parse_response(build_response(response))
    assert parsed.message == "role RSA - - not eligible-"


def test_proposal_response_payload_is_in_the_proposal_namespace() -> None:
    """A response to a proposed request keeps its payload out of DUIS's namespace."""
    response = ServiceResponse(REQUEST_ID, "MBP.1", "I0", body_tag="ProposedTriageResult",
                               body={"Verdict": "NoFaultFound"}, response_datetime=WHEN)
    xml = build_response(response)
    assert b"urn:meterbench:proposed-service-requests:not-duis:1" in xml
    assert parse_response(xml) == response


@pytest.mark.parametrize(
    ("response", "path"),
    [
        (ServiceResponse(REQUEST_ID, "8.2", "OK"), "sr:ResponseCode"),
        (ServiceResponse(REQUEST_ID, "8.2", "I0", body={"x": "1"}), "sr:ResponseMessage"),
        (ServiceResponse(REQUEST_ID, "8.2", "I0", response_id="nope"), "sr:ResponseID"),
    ],
)
def test_build_response_rejects_bad_fields(response: ServiceResponse, path: str) -> None:
    """Bad codes, payloads without a tag, malformed ResponseIDs."""
    with pytest.raises(DuisError) as caught:
        build_response(response)
    assert caught.value.path == path


def test_parse_response_rejects_alerts_and_missing_code() -> None:
    """Alerts are not handled; a header without ResponseCode is malformed."""
    good = build_response(ServiceResponse(REQUEST_ID, "8.2", "I0", response_datetime=WHEN))
    alert = good.replace(b"ResponseMessage", b"DCCAlertMessage")
    with pytest.raises(DuisError, match="alerts are not handled"):
        parse_response(alert)
    start = good.index(b"<sr:ResponseCode>")
    end = good.index(b"</sr:ResponseCode>") + len(b"</sr:ResponseCode>")
    with pytest.raises(DuisError) as caught:
        parse_response(good[:start] + good[end:])
    assert caught.value.path == "/sr:Response/sr:Header/sr:ResponseCode"
