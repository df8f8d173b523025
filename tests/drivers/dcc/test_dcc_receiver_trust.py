"""The receiving endpoint trusts only the DCC: signed posts, awaited requests, mutual TLS.

Regression of issue 12: a forged, unsigned response was stored (HTTP 204) under its request
ID.  Now unsigned, badly signed and unawaited posts are refused with 400 and never kept, the
body is bounded, and with TLS configured a sender without the DCC's client certificate is
refused at the handshake.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from _dcc_driver_helpers import bench_secrets, instrument_config
from cryptography.hazmat.primitives import serialization

from harness.domain.types import RemotePartyRole
from harness.drivers.dcc import DccCredentials
from harness.drivers.dcc.duis_http import DuisHttpAdapter
from harness.emulator.dcc import user_party
from harness.emulator.dcc.receiver_tls import ReceiverTls
from harness.emulator.world.credentials import shared_pki
from harness.errors import MeterbenchError
from harness.protocols.duis import RequestId, ServiceResponse, build_response, sign

PKI = shared_pki(0)
DCC = PKI.organisation(RemotePartyRole.ACCESS_CONTROL_BROKER)
FORGER = PKI.organisation(RemotePartyRole.NETWORK_OPERATOR)
SUPPLIER = DccCredentials.from_party(user_party(PKI, "supplier"))
DCC_PEM = DCC.certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")


def post(url: str, body: bytes, context: ssl.SSLContext | None = None,
         headers: dict[str, str] | None = None) -> int:
    """POST ``body``; the HTTP status."""
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/xml",
                                              **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=5, context=context) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def response_for(request_id: RequestId) -> bytes:
    """An unsigned I0 response to ``request_id``."""
    return build_response(ServiceResponse(request_id, "8.2", "I0"))


@pytest.fixture
def plain() -> Iterator[DuisHttpAdapter]:
    dcc = DuisHttpAdapter("dcc", instrument_config(dcc_certificate=DCC_PEM),
                          "http://127.0.0.1:1").open()
    dcc.use_credentials(SUPPLIER)
    try:
        yield dcc
    finally:
        dcc.close()


def test_a_forged_unsigned_response_is_refused_and_not_stored(plain: DuisHttpAdapter) -> None:
    assert plain.receiver is not None and plain.receive_url is not None
    request_id = plain.request_id()
    plain.receiver.expect(str(request_id))
    assert post(plain.receive_url, response_for(request_id)) == 400
    assert "not signed by the DCC" in plain.receiver.refused[-1].reason
    forged = sign(response_for(request_id), FORGER.private_key, FORGER.certificate)
    assert post(plain.receive_url, forged) == 400
    assert "no trusted certificate" in plain.receiver.refused[-1].reason
    assert plain.receiver.wait_for_response(str(request_id), 0.05) is None
    signed = sign(response_for(request_id), DCC.private_key, DCC.certificate)
    assert post(plain.receive_url, signed) == 204
    kept = plain.receiver.wait_for_response(str(request_id), 0.05)
    assert kept is not None and kept.request_id == request_id


def test_a_signed_response_nobody_awaits_is_refused(plain: DuisHttpAdapter) -> None:
    assert plain.receiver is not None and plain.receive_url is not None
    request_id = plain.request_id()
    signed = sign(response_for(request_id), DCC.private_key, DCC.certificate)
    assert post(plain.receive_url, signed) == 400
    assert "no request awaits" in plain.receiver.refused[-1].reason
    assert plain.receiver.wait_for_response(str(request_id), 0.05) is None


def test_body_size_and_length_are_bounded(plain: DuisHttpAdapter) -> None:
    assert plain.receiver is not None and plain.receive_url is not None
    address = plain.receive_url.removeprefix("http://").rstrip("/")
    host, port = address.split(":")
    for length, status in ((str(64 * 1024 * 1024), 413), ("\u00b2", 411), ("9" * 5000, 411)):
        connection = http.client.HTTPConnection(host, int(port), timeout=5)
        connection.putrequest("POST", "/")
        connection.putheader("Content-Length", length)
        connection.endheaders()
        assert connection.getresponse().status == status
        connection.close()


def test_no_dcc_certificate_means_nothing_is_kept() -> None:
    dcc = DuisHttpAdapter("dcc", instrument_config(), "http://127.0.0.1:1").open()
    dcc.use_credentials(SUPPLIER)
    try:
        assert dcc.receiver is not None and dcc.receive_url is not None
        request_id = dcc.request_id()
        dcc.receiver.expect(str(request_id))
        signed = sign(response_for(request_id), DCC.private_key, DCC.certificate)
        assert post(dcc.receive_url, signed) == 400
        assert "dcc_certificate" in dcc.receiver.refused[-1].reason
    finally:
        dcc.close()


@pytest.mark.parametrize(("options", "match"), [
    ({}, "needs mutual TLS"),
    ({"receive_plain_http": True, "receive_host": "0.0.0.0"}, "loopback receive_host only"),
])
def test_plain_http_only_where_the_bench_says_so_on_loopback(options: dict[str, object],
                                                             match: str) -> None:
    config = instrument_config(**options)
    if "receive_plain_http" not in options:
        config = config.model_copy(update={"options": {}})
    with pytest.raises(MeterbenchError, match=match):
        DuisHttpAdapter("dcc", config, "http://127.0.0.1:1").open()


@pytest.fixture
def mutual() -> Iterator[tuple[DuisHttpAdapter, ReceiverTls]]:
    material = ReceiverTls.generate("test")
    options = {"dcc_certificate": DCC_PEM, "receive_plain_http": False,
               "receive_tls_certificate": material.server.certificate,
               "receive_tls_key": "env:MB_TEST_RECEIVE_TLS_KEY",
               "receive_tls_client_ca": material.ca_certificate}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MB_TEST_RECEIVE_TLS_KEY", material.server.key)
        config = instrument_config(**options)
        dcc = DuisHttpAdapter("dcc", config, "http://127.0.0.1:1",
                              secrets=bench_secrets(config)).open()
    dcc.use_credentials(SUPPLIER)
    try:
        yield dcc, material
    finally:
        dcc.close()


def test_mutual_tls_refuses_a_sender_without_the_dcc_client_certificate(
        mutual: tuple[DuisHttpAdapter, ReceiverTls]) -> None:
    dcc, material = mutual
    assert dcc.receiver is not None and dcc.receive_url is not None
    assert dcc.receive_url.startswith("https://127.0.0.1:")
    request_id = dcc.request_id()
    dcc.receiver.expect(str(request_id))
    signed = sign(response_for(request_id), DCC.private_key, DCC.certificate)
    stranger = ReceiverTls.generate("stranger")  # a client certificate from another CA
    stranger_context = stranger.client_context()
    stranger_context.load_verify_locations(cadata=material.ca_certificate)
    for context in (material.client_context(with_certificate=False), stranger_context):
        with pytest.raises((ssl.SSLError, urllib.error.URLError, ConnectionError)):
            post(dcc.receive_url, signed, context)
    with pytest.raises((urllib.error.URLError, ConnectionError, http.client.HTTPException)):
        post(dcc.receive_url.replace("https:", "http:"), signed)  # no TLS at all
    assert dcc.receiver.wait_for_response(str(request_id), 0.05) is None
    assert post(dcc.receive_url, signed, material.client_context()) == 204
    assert dcc.receiver.wait_for_response(str(request_id), 0.5) is not None


def test_a_stalled_tls_client_does_not_block_the_dcc(
        mutual: tuple[DuisHttpAdapter, ReceiverTls]) -> None:
    dcc, material = mutual
    assert dcc.receiver is not None and dcc.receive_url is not None
    port = int(dcc.receive_url.rstrip("/").rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port)):  # connects, never handshakes
        request_id = dcc.request_id()
        dcc.receiver.expect(str(request_id))
        signed = sign(response_for(request_id), DCC.private_key, DCC.certificate)
        assert post(dcc.receive_url, signed, material.client_context()) == 204
