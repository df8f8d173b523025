"""Hostile numbers and bytes in DUIS messages: only DuisError, with line and element path.

Regressions of issue 12: Unicode digits and 5,000-digit numbers in CommandVariant, the
throttling fields and X509SerialNumber raised int()'s undocumented ValueError.
"""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.emulator.world.pki import Party
from harness.errors import MeterbenchError
from harness.protocols.duis import (
    DuisAlert,
    DuisError,
    DuisSignatureError,
    RequestId,
    ServiceResponse,
    build_alert,
    build_request,
    build_response,
    parse_alert,
    parse_message,
    parse_request,
    read_inventory,
    sign,
    verify,
)
from harness.protocols.gbcs_alerts import alert_info

WHEN = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
RID = "00-DB-12-00-00-00-00-01:90-B3-D5-1F-30-01-00-00:17"
HOSTILE_NUMBERS = ["\u00b2", "\u0661", "\uff18", "9" * 5000, "-1", " 8 8", "8\n8", ""]


def _request() -> bytes:
    request_id = RequestId.parse("90-B3-D5-1F-30-01-00-00:00-DB-12-00-00-00-00-01:1001")
    return build_request(read_inventory(request_id, "00-DB-12-34-56-78-90-A0"))


def _alert() -> bytes:
    return build_alert(DuisAlert("DeviceAlertMessage", "8F49", response_id=RID,
                                 response_datetime=WHEN, gbcs_payload="3wkAAAAAAA==",
                                 throttled_sequence_id=3, throttled_count=9))


def _signed(party: Party) -> bytes:
    response = build_response(ServiceResponse(RequestId.parse(RID), "8.2", "I0",
                                              response_datetime=WHEN))
    return sign(response, party.private_key, party.certificate)


@pytest.mark.parametrize("value", HOSTILE_NUMBERS)
def test_command_variant_hostile_number_is_a_located_duis_error(value: str) -> None:
    data = _request().replace(b">8</sr:CommandVariant>",
                              f">{value}</sr:CommandVariant>".encode())
    with pytest.raises(DuisError) as caught:
        parse_request(data, source="req.xml")
    assert caught.value.path == "/sr:Request/sr:Header/sr:CommandVariant"
    assert caught.value.line == 5


@pytest.mark.parametrize("tag", ["ThrottledAlertSequenceId", "ThrottledAlertCount"])
@pytest.mark.parametrize("value", HOSTILE_NUMBERS)
def test_throttling_hostile_number_is_a_located_duis_error(tag: str, value: str) -> None:
    original = b"3" if tag == "ThrottledAlertSequenceId" else b"9"
    data = _alert().replace(b">" + original + f"</sr:{tag}>".encode(),
                            f">{value}</sr:{tag}>".encode())
    with pytest.raises(DuisError) as caught:
        parse_alert(data, source="alert.xml")
    assert caught.value.path is not None and caught.value.path.endswith(f"sr:{tag}")
    assert caught.value.line is not None
    assert len(str(caught.value)) < 400  # a 5,000-digit value is not echoed whole


@pytest.mark.parametrize("value", HOSTILE_NUMBERS)
def test_x509_serial_hostile_number_is_a_signature_error(supplier: Party, value: str) -> None:
    data = _signed(supplier)
    serial = str(supplier.certificate.serial_number).encode()
    assert serial in data
    data = data.replace(b">" + serial + b"<", f">{value}<".encode())
    with pytest.raises(DuisSignatureError) as caught:
        verify(data, [supplier.certificate])
    assert caught.value.path is not None and caught.value.path.endswith("X509SerialNumber")


def test_request_id_and_alert_table_raise_protocol_errors() -> None:
    with pytest.raises(MeterbenchError):
        RequestId.parse("00-DB-12-00-00-00-00-01:90-B3-D5-1F-30-01-00-00:" + "9" * 5000)
    with pytest.raises(MeterbenchError):
        RequestId.parse("00-DB-12-00-00-00-00-01:90-B3-D5-1F-30-01-00-00:99999999999999999999")
    with pytest.raises(MeterbenchError):
        alert_info(0x1234)


_TOKENS = st.sampled_from([b"\xc2\xb2", b"\xd9\xa1", b"9" * 5000, b"<", b"&", b"\xff", b"-",
                           b"<sr:X/>", b"]]>", b"\x00", b" "])


@st.composite
def _mutant(draw: st.DrawFn, seeds: list[bytes]) -> bytes:
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(data)))
        end = draw(st.integers(at, min(len(data), at + 8)))
        data[at:end] = draw(_TOKENS | st.binary(max_size=4))
    return bytes(data)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_fuzz_duis_parsers_raise_only_duis_errors(data: st.DataObject) -> None:
    seeds = [_request(), _alert(), build_response(
        ServiceResponse(RequestId.parse(RID), "8.2", "I0", response_datetime=WHEN))]
    message = data.draw(_mutant(seeds))
    for parse in (parse_request, parse_message):
        with contextlib.suppress(DuisError):
            parse(message)


@pytest.mark.parametrize("element", [b"SignatureValue", b"DigestValue"])
def test_an_empty_signature_value_is_a_signature_error(supplier: Party, element: bytes) -> None:
    """Found by benchmarks/fuzz_parsers.py: signxml base64-decoded None (TypeError)."""
    data = _signed(supplier)
    start = data.index(b"<ds:" + element + b">") + len(element) + 5
    end = data.index(b"</ds:" + element + b">")
    with pytest.raises(DuisSignatureError, match="is empty"):
        verify(data[:start] + data[end:], [supplier.certificate])
