"""DUIS alerts: device and DCC alerts built and parsed, and told apart from responses."""

from __future__ import annotations

import datetime as dt

import pytest

from harness.protocols.duis import (
    DuisAlert,
    DuisError,
    RequestId,
    ServiceResponse,
    build_alert,
    build_response,
    parse_alert,
    parse_message,
)

WHEN = dt.datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=dt.UTC)
HUB_TO_USER = "00-DB-12-00-00-00-00-01:90-B3-D5-1F-30-01-00-00:17"


def test_a_device_alert_round_trips() -> None:
    alert = DuisAlert("DeviceAlertMessage", "8F49", response_id=HUB_TO_USER,
                      response_datetime=WHEN, gbcs_payload="3wkAAAAAAA==",
                      throttled_sequence_id=3, throttled_count=9)
    data = build_alert(alert)
    assert b"<sr:AlertCode>8F49</sr:AlertCode>" in data
    assert parse_alert(data) == alert
    assert parse_message(data) == alert
    assert alert.device_alert_code == 0x8F49


def test_a_dcc_alert_round_trips() -> None:
    alert = DuisAlert("DCCAlertMessage", "N1", response_datetime=WHEN,
                      details={"Reason": "test"})
    parsed = parse_message(build_alert(alert))
    assert parsed == alert and isinstance(parsed, DuisAlert)
    assert parsed.device_alert_code is None


def test_parse_message_tells_a_response_from_an_alert() -> None:
    response = ServiceResponse(RequestId.parse(HUB_TO_USER), "8.2", "I0", response_datetime=WHEN)
    assert isinstance(parse_message(build_response(response)), ServiceResponse)
    with pytest.raises(DuisError, match="not an alert"):
        parse_alert(build_response(response))


@pytest.mark.parametrize(
    ("old", "new", "path"),
    [
        (b"<sr:AlertCode>8F49</sr:AlertCode>", b"", "sr:AlertCode"),
        (b"<sr:ThrottledAlertCount>9</sr:ThrottledAlertCount>",
         b"<sr:ThrottledAlertCount>many</sr:ThrottledAlertCount>", "sr:ThrottledAlertCount"),
        (b"</sr:DeviceAlertMessage>", b"<sr:Extra>1</sr:Extra></sr:DeviceAlertMessage>",
         "sr:Extra"),
    ],
)
def test_a_malformed_device_alert_names_where(old: bytes, new: bytes, path: str) -> None:
    data = build_alert(DuisAlert("DeviceAlertMessage", "8F49", response_datetime=WHEN,
                                 throttled_count=9))
    assert old in data
    with pytest.raises(DuisError) as caught:
        parse_message(data.replace(old, new), source="posted")
    assert caught.value.path is not None and caught.value.path.endswith(path)
    assert caught.value.response_code == "EMB01"


def test_a_dcc_alert_needs_its_details() -> None:
    data = build_alert(DuisAlert("DCCAlertMessage", "N1", response_datetime=WHEN))
    with pytest.raises(DuisError, match="missing sr:DCCAlert"):
        parse_message(data.replace(b"<sr:DCCAlert/>", b""))


def test_build_alert_refuses_an_unknown_kind() -> None:
    with pytest.raises(DuisError, match="alert kind"):
        build_alert(DuisAlert("ResponseMessage", "8F49"))
