"""Hostile bytes against the emulated DCC's HTTP(S) endpoint: bounded, answered, never stuck."""

from __future__ import annotations

import http.client
import random
import socket
import ssl
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

import harness.emulator.dcc.service as dcc_service
from harness.emulator.dcc import EmulatedDcc
from harness.emulator.dcc.server import MAX_REQUEST_BYTES
from harness.emulator.fuzz import (
    HTTP_TOKENS,
    duis_template,
    http_request,
    mutate_duis,
    probe_dcc,
    tcp_address,
)
from harness.protocols.duis import parse_response
from tests.emulator._hostile import (
    FUZZ,
    PROBE_TIMEOUT_S,
    hostile,
    send_in_background,
    survives,
    traced_peak,
)


@pytest.fixture(scope="module")
def dcc() -> Iterator[EmulatedDcc]:
    server = EmulatedDcc()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def dcc_tls() -> Iterator[EmulatedDcc]:
    server = EmulatedDcc(tls=True)
    server.start()
    yield server
    server.stop()


def address(dcc: EmulatedDcc) -> tuple[str, int]:
    return tcp_address(dcc.resource)


def post(dcc: EmulatedDcc, raw: bytes) -> http.client.HTTPResponse:
    """Send a raw HTTP request; the parsed response (read in full)."""
    sock = socket.create_connection(address(dcc), timeout=PROBE_TIMEOUT_S)
    sock.sendall(raw)
    response = http.client.HTTPResponse(sock)
    response.begin()
    response.body = response.read()  # type: ignore[attr-defined]
    sock.close()
    return response


def test_a_15_mib_request_is_refused_unread_with_a_duis_413(dcc: EmulatedDcc) -> None:
    raw = http_request(b"<a>" + b"x" * (15 * 1024 * 1024) + b"</a>")
    peak = traced_peak(lambda: send_in_background(address(dcc), raw).join(timeout=30))
    assert peak < 2 * 1024 * 1024  # was 738 MB: the body was read and parsed
    response = post(dcc, raw[:raw.index(b"\r\n\r\n") + 4])  # the headers alone get the answer
    assert response.status == 413
    answer = parse_response(response.body)  # type: ignore[attr-defined]
    assert answer.response_code == "EMB01"
    assert str(MAX_REQUEST_BYTES) in answer.message
    assert probe_dcc(address(dcc), PROBE_TIMEOUT_S)


def test_requests_are_parsed_outside_the_service_lock(dcc: EmulatedDcc,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    held: list[bool] = []
    real_parse = dcc_service.parse_request

    def observed(data: bytes, **kwargs: object) -> object:
        held.append(dcc.service._lock.locked())
        return real_parse(data, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(dcc_service, "parse_request", observed)
    assert probe_dcc(address(dcc), PROBE_TIMEOUT_S)
    assert held == [False]


def test_a_parser_bug_still_gets_a_duis_answer_and_is_counted(
        dcc: EmulatedDcc, monkeypatch: pytest.MonkeyPatch, server_errors: list) -> None:
    def broken(data: bytes, **kwargs: object) -> object:
        raise ValueError("Exceeds the limit (4300 digits) for integer string conversion")

    monkeypatch.setattr(dcc_service, "parse_request", broken)
    response = post(dcc, http_request(duis_template()))
    assert response.status == 200
    answer = parse_response(response.body)  # type: ignore[attr-defined]
    assert answer.response_code == "EMB01"
    assert "ValueError" in answer.message
    assert [server for server, _ in server_errors] == ["DCC (DUIS parser)"]
    monkeypatch.undo()
    assert probe_dcc(address(dcc), PROBE_TIMEOUT_S)


@pytest.mark.parametrize(("length", "status"), [
    (b"\xb2", 411), (b"-1", 411), (b"9" * 5000, 413), (b"99999999999999999999", 413)])
def test_odd_content_lengths_get_an_http_error_not_a_crash(
        dcc: EmulatedDcc, length: bytes, status: int, server_errors: list) -> None:
    raw = b"POST /api/v1/serviceD HTTP/1.1\r\nContent-Length: " + length + b"\r\n\r\n<a/>"
    assert post(dcc, raw).status == status
    assert server_errors == []


def test_idle_clients_do_not_block_another(dcc: EmulatedDcc) -> None:
    idle = [socket.create_connection(address(dcc)) for _ in range(3)]
    try:
        assert probe_dcc(address(dcc), PROBE_TIMEOUT_S)
    finally:
        for sock in idle:
            sock.close()


def test_a_client_that_never_starts_tls_does_not_block_the_https_endpoint(
        dcc_tls: EmulatedDcc) -> None:
    assert dcc_tls.tls_certificate_pem is not None
    context = ssl.create_default_context(cadata=dcc_tls.tls_certificate_pem.decode()
                                         if isinstance(dcc_tls.tls_certificate_pem, bytes)
                                         else dcc_tls.tls_certificate_pem)
    host, port = address(dcc_tls)
    with socket.create_connection((host, port)):  # connected, no ClientHello
        connection = http.client.HTTPSConnection(host, port, context=context,
                                                 timeout=PROBE_TIMEOUT_S)
        connection.request("GET", "/")
        assert connection.getresponse().status == 200
        connection.close()


@FUZZ
@given(data=hostile(HTTP_TOKENS)
       | st.randoms(use_true_random=False).map(lambda r: mutate_duis(r, duis_template())))
def test_fuzz_dcc(dcc: EmulatedDcc, data: bytes, server_errors: list) -> None:
    assert survives(address(dcc), data, probe_dcc)
    assert server_errors == []


def test_mutated_duis_is_answered_as_duis(dcc: EmulatedDcc, server_errors: list) -> None:
    rng = random.Random(12)
    for _ in range(20):
        response = post(dcc, mutate_duis(rng, duis_template()))
        assert response.status in (200, 400, 411, 413)
    assert server_errors == []
