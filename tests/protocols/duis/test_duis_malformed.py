"""Malformed requests: each is a DuisError naming what is wrong, the line and element path."""

from __future__ import annotations

import pickle

import pytest
from duis_testdata import reference_bytes

from harness.errors import MeterbenchError, ProtocolError
from harness.protocols.duis import DuisError, codes, parse_request

READ_INVENTORY = "8.2_READ_INVENTORY_REQUEST_DUIS.XML"
FAULT_RETURN = "8.14.3_COMMUNICATIONS_HUB_STATUS_UPDATE_FAULT_RETURN_REQUEST_DUIS.XML"


def _error(data: bytes) -> DuisError:
    """The DuisError parse_request raises for ``data``."""
    with pytest.raises(DuisError) as caught:
        parse_request(data, source="sample.xml")
    return caught.value


def _edit(name: str, old: bytes, new: bytes) -> bytes:
    """A reference request with one piece of text replaced (which must be there)."""
    data = reference_bytes(name)
    assert old in data
    return data.replace(old, new, 1)


def test_not_well_formed_names_the_line() -> None:
    """An unclosed element: EMB01 with the line lxml stopped at."""
    data = _edit(READ_INVENTORY, b"</sr:DeviceID>", b"</sr:DeviceId>")
    error = _error(data)
    assert error.response_code == codes.MALFORMED
    assert error.line == 11
    assert "not well-formed" in error.message
    assert str(error).startswith("sample.xml, line 11: not well-formed XML")


@pytest.mark.parametrize("data", [b"", b"   ", b"not xml at all", b"<a>"])
def test_garbage_is_malformed(data: bytes) -> None:
    """Empty or non-XML input is EMB01."""
    assert _error(data).response_code == codes.MALFORMED


def test_missing_header_element_names_its_path() -> None:
    """No CommandVariant: the path of the missing element and the Header's line."""
    data = _edit(READ_INVENTORY, b"<sr:CommandVariant>8</sr:CommandVariant>", b"")
    error = _error(data)
    assert error.response_code == codes.MALFORMED
    assert error.path == "/sr:Request/sr:Header/sr:CommandVariant"
    assert error.line == 3
    assert "missing sr:CommandVariant (expected after sr:RequestID)" in error.message


def test_missing_body_is_malformed() -> None:
    """A request without sr:Body."""
    data = reference_bytes(READ_INVENTORY)
    start, end = data.index(b"<sr:Body>"), data.index(b"</sr:Body>") + len(b"</sr:Body>")
    error = _error(data[:start] + data[end:])
    assert error.path == "/sr:Request/sr:Body"


@pytest.mark.parametrize("bad", [
    b"90-B3-D5-1F-30-01-00-00:90-B3-D5-1F-30-00-00-02",  # no counter
    b"90B3D51F30010000:90B3D51F30000002:1000",  # undashed
    b"90-B3-D5-1F-30-01-00-00:90-B3-D5-1F-30-00-00-ZZ:1000",  # not hex
    b"",  # empty
])
def test_bad_request_id_names_element_and_line(bad: bytes) -> None:
    """A bad RequestID: EMB01 at /sr:Request/sr:Header/sr:RequestID, line 4."""
    data = _edit(READ_INVENTORY,
                 b"90-B3-D5-1F-30-01-00-00:90-B3-D5-1F-30-00-00-02:1000", bad)
    error = _error(data)
    assert error.response_code == codes.MALFORMED
    assert error.path == "/sr:Request/sr:Header/sr:RequestID"
    assert error.line == 4


def test_unknown_variant_is_an_error() -> None:
    """A Service Reference Variant meterbench does not know: EMB02."""
    data = _edit(READ_INVENTORY, b"<sr:ServiceReferenceVariant>8.2<",
                 b"<sr:ServiceReferenceVariant>99.9<")
    error = _error(data)
    assert error.response_code == codes.UNKNOWN_VARIANT
    assert error.path == "/sr:Request/sr:Header/sr:ServiceReferenceVariant"
    assert "99.9" in error.message


def test_service_reference_variant_mismatch_is_an_error() -> None:
    """ServiceReference 8.3 with variant 8.2: EMB02 at the ServiceReference."""
    data = _edit(READ_INVENTORY, b"<sr:ServiceReference>8.2<", b"<sr:ServiceReference>8.3<")
    error = _error(data)
    assert error.response_code == codes.UNKNOWN_VARIANT
    assert error.path == "/sr:Request/sr:Header/sr:ServiceReference"


def test_body_variant_mismatch_is_an_error() -> None:
    """Variant 8.14.4 over an 8.14.3 body: EMB02 naming the body element."""
    data = _edit(FAULT_RETURN, b"<sr:ServiceReferenceVariant>8.14.3<",
                 b"<sr:ServiceReferenceVariant>8.14.4<")
    error = _error(data)
    assert error.response_code == codes.UNKNOWN_VARIANT
    assert error.path == "/sr:Request/sr:Body/sr:CHFFaultReturn"
    assert error.line == 10


def test_command_variant_not_applicable_is_e12() -> None:
    """8.2 is DCC-only (CV 8): CV 1 is DUIS's E12."""
    data = _edit(READ_INVENTORY, b"<sr:CommandVariant>8<", b"<sr:CommandVariant>1<")
    error = _error(data)
    assert error.response_code == codes.BAD_COMMAND_VARIANT == "E12"
    assert error.path == "/sr:Request/sr:Header/sr:CommandVariant"


@pytest.mark.parametrize("cv", [b"0", b"10", b"x", b"-1"])
def test_command_variant_out_of_range_is_malformed(cv: bytes) -> None:
    """CommandVariant must be 1..9."""
    data = _edit(READ_INVENTORY, b"<sr:CommandVariant>8<", b"<sr:CommandVariant>" + cv + b"<")
    assert _error(data).path == "/sr:Request/sr:Header/sr:CommandVariant"


def test_wrong_root_and_namespace() -> None:
    """A Response where a Request is expected, and a foreign namespace."""
    data = reference_bytes(READ_INVENTORY)
    assert _error(data.replace(b"sr:Request", b"sr:Response")).path == "/sr:Response"
    foreign = data.replace(b"http://www.dccinterface.co.uk/ServiceUserGateway",
                           b"http://example.invalid/other")
    assert "expected sr:Request" in _error(foreign).message


def test_missing_schema_version() -> None:
    """schemaVersion is required."""
    data = _edit(READ_INVENTORY, b' schemaVersion="5.4"', b"")
    error = _error(data)
    assert error.path == "/sr:Request" and "schemaVersion" in error.message


def test_two_body_elements_are_malformed() -> None:
    """sr:Body holds exactly one element."""
    data = _edit(READ_INVENTORY, b"</sr:ReadInventory>",
                 b"</sr:ReadInventory><sr:ReadInventory/>")
    assert _error(data).path == "/sr:Request/sr:Body"


def test_element_after_signature_is_malformed() -> None:
    """Nothing may follow the signature."""
    data = _edit(READ_INVENTORY, b"</ds:Signature>", b"</ds:Signature><sr:Extra/>")
    assert _error(data).path == "/sr:Request/sr:Extra"


def test_entity_expansion_and_external_entities_are_refused() -> None:
    """A DOCTYPE (billion laughs, XXE) is refused before anything is expanded."""
    bomb = (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
            b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
            b'<sr:Request xmlns:sr="http://www.dccinterface.co.uk/ServiceUserGateway" '
            b'schemaVersion="5.4">&b;</sr:Request>')
    xxe = (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
           b'<r>&x;</r>')
    for data in (bomb, xxe):
        error = _error(data)
        assert error.response_code == codes.MALFORMED
        assert "DOCTYPE" in error.message


def test_duis_error_is_in_the_project_tree_and_pickles() -> None:
    """DuisError is a ProtocolError (and ValueError) and survives pickling."""
    error = _error(b"<a>")
    assert isinstance(error, ProtocolError) and isinstance(error, MeterbenchError)
    assert isinstance(error, ValueError)
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.response_code, copy.line, copy.source, str(copy)) == (
        error.response_code, error.line, error.source, str(error))
