"""Refused requests: each gets a DUIS-style error and changes nothing, inventory or device."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from _dcc_emulator_helpers import dcc_of, post, reference, signed, small_bench, user_id

from harness.domain.types import RemotePartyRole
from harness.emulator.bench import EmulatedBench
from harness.emulator.dcc import EmulatedDcc
from harness.emulator.world.credentials import shared_pki
from harness.emulator.world.models import CommsHub, MeterDevice
from harness.protocols.duis import (
    DCC_EUI64,
    RequestId,
    build_request,
    ch_fault_return,
    ch_install_success,
    decommission_device,
    sign,
    update_han_device_log,
)
from harness.protocols.duis.codes import (
    INVALID_USER,
    MALFORMED,
    ROLE_NOT_ELIGIBLE,
    SIGNATURE_INVALID,
    SIGNATURE_MISSING,
    SIGNER_UNKNOWN,
    SUCCESS,
    UNKNOWN_VARIANT,
)


def rid(user: str = "supplier", target: str = DCC_EUI64, counter: int = 1) -> RequestId:
    """A RequestID from ``user`` to ``target``."""
    return RequestId(user_id(user), target, counter)


@pytest.fixture(scope="module")
def bench() -> Iterator[EmulatedBench]:
    """A bench whose hub is installed and commissioned through the DCC (strict signatures)."""
    with small_bench() as bench:
        hub = bench.devices["ch"]
        answer = post(bench.addresses["dcc"], signed(ch_install_success(
            rid(counter=1), hub.eui64, mpxn="1900000000001", aerial_install=False,
            location="Indoors on external wall")))
        assert answer.response_code == SUCCESS, answer.message
        yield bench


def whitelist_esme(bench: EmulatedBench, user: str, counter: int) -> bytes:
    """8.11 adding the bench's ESME to its hub, signed by ``user``."""
    hub, esme = bench.devices["ch"], bench.devices["esme"]
    return signed(update_han_device_log(
        RequestId(user_id(user), hub.eui64, counter), esme.eui64,
        install_code=esme.label.install_code.code, import_mpxn="1900000000002"), user)


def assert_refused(bench: EmulatedBench, data: bytes, code: str, path: str | None = None
                   ) -> str:
    """Post ``data``; it must be refused with ``code`` and change nothing anywhere."""
    dcc = dcc_of(bench)
    hub = bench.devices["ch"]
    assert isinstance(hub, CommsHub)
    before = (dcc.inventory.snapshot(), dcc.inventory.version, hub.device_log(),
              hub.log_codes())
    response = post(bench.addresses["dcc"], data, path)
    assert response.response_code == code, response.message
    assert response.body_tag is None
    assert (dcc.inventory.snapshot(), dcc.inventory.version, hub.device_log(),
            hub.log_codes()) == before
    return response.message


def test_an_ineligible_role_is_refused_and_nothing_changes(bench: EmulatedBench) -> None:
    message = assert_refused(bench, whitelist_esme(bench, "rsa", 10), ROLE_NOT_ELIGIBLE)
    assert "RSA" in message and "8.11" in message and "eligible roles: GS, IS, OU" in message
    # A distributor may not decommission either (IS GS only).
    data = signed(decommission_device(rid("distributor", counter=11), bench.devices["esme"].eui64),
                  "distributor")
    assert "ED" in assert_refused(bench, data, ROLE_NOT_ELIGIBLE)


def test_a_request_signed_by_an_unregistered_certificate_is_refused(bench: EmulatedBench) -> None:
    stranger = shared_pki(0).organisation(RemotePartyRole.SUPPLIER, "90B3D51F30010099")
    request = update_han_device_log(RequestId(stranger.eui64, bench.devices["ch"].eui64, 12),
                                    bench.devices["esme"].eui64,
                                    install_code=bench.devices["esme"].label.install_code.code)
    data = sign(build_request(request), stranger.private_key, stranger.certificate)
    assert "no trusted certificate" in assert_refused(bench, data, SIGNER_UNKNOWN)


def test_a_request_altered_after_signing_is_refused(bench: EmulatedBench) -> None:
    data = whitelist_esme(bench, "supplier", 13)
    altered = data.replace(b"1900000000002", b"1900000000003")
    assert altered != data
    assert_refused(bench, altered, SIGNATURE_INVALID)


def test_an_unsigned_request_is_refused(bench: EmulatedBench) -> None:
    request = decommission_device(rid(counter=14), bench.devices["esme"].eui64)
    assert "not signed" in assert_refused(bench, build_request(request), SIGNATURE_MISSING)


def test_a_signer_who_is_not_the_originator_is_refused(bench: EmulatedBench) -> None:
    request = decommission_device(RequestId(user_id("rsa"), DCC_EUI64, 15),
                                  bench.devices["esme"].eui64)
    assert "originator" in assert_refused(bench, signed(request, "supplier"), INVALID_USER)


@pytest.mark.parametrize(("data", "fragment"), [
    (b"this is not XML", "not well-formed"),
    (b"<sr:Request xmlns:sr='http://www.dccinterface.co.uk/ServiceUserGateway'/>",
     "schemaVersion"),
])
def test_a_malformed_request_is_refused(bench: EmulatedBench, data: bytes, fragment: str
                                        ) -> None:
    message = assert_refused(bench, data, MALFORMED, "/api/v1/serviceD")
    assert fragment in message


def test_a_request_missing_a_header_element_names_it(bench: EmulatedBench) -> None:
    data = whitelist_esme(bench, "supplier", 16)
    broken = data.replace(b"<sr:ServiceReference>8.11</sr:ServiceReference>", b"")
    message = assert_refused(bench, broken, MALFORMED, "/api/v1/serviceS")
    assert "sr:ServiceReference" in message


def test_an_unknown_variant_is_refused(bench: EmulatedBench) -> None:
    data = reference("8.2_READ_INVENTORY_REQUEST_DUIS.XML").replace(
        b">8.2</sr:ServiceReferenceVariant>", b">8.99</sr:ServiceReferenceVariant>")
    assert_refused(bench, data, UNKNOWN_VARIANT, "/api/v1/serviceD")


def test_a_return_reason_outside_the_vocabulary_is_refused(bench: EmulatedBench) -> None:
    request = ch_fault_return(rid(counter=17), bench.devices["ch"].eui64,
                              return_type="Fault identified post installation",
                              other_device_id=bench.devices["esme"].eui64,
                              connection_method="Cradle", reason="Damaged case")
    request.body["CHFFaultReason"] = "Dropped on the floor"
    message = assert_refused(bench, signed(request), MALFORMED)
    assert "Dropped on the floor" in message and "Damaged case" in message


def test_the_wrong_web_service_is_refused(bench: EmulatedBench) -> None:
    data = signed(decommission_device(rid(counter=18), bench.devices["esme"].eui64))
    assert "/api/v1/serviceD" in assert_refused(bench, data, "E13", "/api/v1/serviceS")


def test_a_status_the_device_does_not_have_is_refused(bench: EmulatedBench) -> None:
    # The ESME is Pending: 8.3 needs it installed.
    data = signed(decommission_device(rid(counter=19), bench.devices["esme"].eui64))
    message = assert_refused(bench, data, "E5")
    assert "Pending" in message


def test_the_same_request_from_an_eligible_user_goes_through(bench: EmulatedBench) -> None:
    response = post(bench.addresses["dcc"], whitelist_esme(bench, "supplier", 20))
    assert response.response_code == SUCCESS, response.message
    hub, esme = bench.devices["ch"], bench.devices["esme"]
    assert isinstance(hub, CommsHub) and isinstance(esme, MeterDevice)
    assert esme.eui64 in {entry.eui64 for entry in hub.device_log()}


def test_relaxed_mode_still_checks_a_real_signature() -> None:
    dcc = EmulatedDcc(relaxed=True)
    dcc.start()
    try:
        request = decommission_device(RequestId(user_id("supplier"), DCC_EUI64, 1),
                                      "00DB1234567890A0")
        data = signed(request).replace(b"00-DB-12-34-56-78-90-A0", b"00-DB-12-34-56-78-90-A1")
        before = dcc.inventory.snapshot()
        assert post(dcc.resource, data).response_code == SIGNATURE_INVALID
        # An unknown originator behind a placeholder signature is no user at all.
        stranger = reference("8.2_READ_INVENTORY_REQUEST_DUIS.XML").replace(
            b"90-B3-D5-1F-30-01-00-00:", b"90-B3-D5-1F-30-01-00-77:")
        assert post(dcc.resource, stranger).response_code == INVALID_USER
        assert dcc.inventory.snapshot() == before
    finally:
        dcc.stop()


def test_what_is_not_duis_gets_an_http_error(bench: EmulatedBench) -> None:
    base = bench.addresses["dcc"]
    with urllib.request.urlopen(base + "/", timeout=5) as answer:
        assert b"emulated DCC" in answer.read()
    for method, path, status in (("GET", "/api/v1/serviceD", 405), ("POST", "/api/v2/x", 404)):
        request = urllib.request.Request(base + path, data=b"<x/>" if method == "POST" else None,
                                         method=method)
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(request, timeout=5)
        assert caught.value.code == status
