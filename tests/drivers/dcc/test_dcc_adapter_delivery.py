"""Delivery: what is retried (never a state change whose delivery is uncertain), timeouts, TLS."""

from __future__ import annotations

import socket

import pytest
from _dcc_driver_helpers import SilentPeer, bench_secrets, instrument_config

from harness.domain.types import DeviceType, SmiStatus
from harness.drivers.dcc import DccCredentials, DeliveryUncertainError
from harness.drivers.dcc.duis_http import DuisHttpAdapter
from harness.emulator.dcc import DeviceRecord, EmulatedDcc, user_party
from harness.emulator.world.credentials import shared_pki
from harness.errors import InstrumentConnectError, InstrumentTimeoutError, OperationError
from harness.protocols.duis import build_response, parse_request

SUPPLIER = DccCredentials.from_party(user_party(shared_pki(0), "supplier"))


def adapter(url: str, sleeps: list[float], **options: object) -> DuisHttpAdapter:
    """An open adapter to ``url`` signing as the test supplier, sleeping into ``sleeps``."""
    config = instrument_config(response_timeout_s=1.0, **options)
    dcc = DuisHttpAdapter("dcc", config, url, sleep=sleeps.append,
                          secrets=bench_secrets(config)).open()
    dcc.use_credentials(SUPPLIER)
    return dcc


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.usefixtures("permit")
def test_a_request_that_never_got_through_is_sent_again_then_reported() -> None:
    sleeps: list[float] = []
    dcc = adapter(f"http://127.0.0.1:{closed_port()}", sleeps, retries=3)
    with pytest.raises(InstrumentConnectError, match=r"not delivered .* after 4 attempt"):
        dcc.decommission("00DB120000000001")
    assert len(sleeps) == 3  # waited between the 4 attempts, through the injected sleep
    assert dcc.exchanges == []


@pytest.mark.usefixtures("permit")
def test_a_state_change_whose_delivery_is_uncertain_is_not_sent_again() -> None:
    peer = SilentPeer()
    sleeps: list[float] = []
    try:
        dcc = adapter(peer.url, sleeps)
        with pytest.raises(DeliveryUncertainError, match="NOT sent again") as caught:
            dcc.decommission("00DB120000000001")
        assert len(peer.requests) == 1 and sleeps == []
        sent = parse_request(peer.requests[0])
        assert caught.value.context["request_id"] == str(sent.request_id)
    finally:
        peer.close()


def test_an_unanswered_read_is_sent_again_under_a_new_request_id() -> None:
    peer = SilentPeer()
    try:
        dcc = adapter(peer.url, [], retries=2)
        with pytest.raises(InstrumentTimeoutError, match="unanswered after 3"):
            dcc.read_inventory("00DB120000000001")
        counters = [parse_request(body).request_id.counter for body in peer.requests]
        assert len(counters) == 3 and len(set(counters)) == 3 and counters == sorted(counters)
    finally:
        peer.close()


def test_a_read_that_is_answered_on_the_second_try_succeeds() -> None:
    dcc_env = EmulatedDcc(relaxed=False)
    dcc_env.start()
    calls = []

    def second_time(body: bytes) -> bytes | None:
        """Hang up on the first request, answer the next through the emulated DCC."""
        calls.append(body)
        if len(calls) == 1:
            return None
        return build_response(dcc_env.handle(body, "/api/v1/serviceD"))

    peer = SilentPeer(second_time)
    try:
        dcc = adapter(peer.url, [])
        dcc_env.inventory.seed(DeviceRecord("00DB120000000001", DeviceType.ESME, SmiStatus.PENDING),
                               "test")
        response = dcc.read_inventory("00DB120000000001")
        assert response.success and len(calls) == 2
        assert dcc.exchanges[-1].attempts == 2
    finally:
        peer.close()
        dcc_env.stop()


def test_an_http_error_is_not_retried() -> None:
    dcc_env = EmulatedDcc()
    dcc_env.start()
    try:
        sleeps: list[float] = []
        dcc = adapter(dcc_env.resource + "/not-here", sleeps)
        with pytest.raises(OperationError, match="HTTP 404"):
            dcc.read_inventory("00DB120000000001")
        assert sleeps == []
    finally:
        dcc_env.stop()


def test_https_with_the_emulators_certificate(monkeypatch: pytest.MonkeyPatch) -> None:
    dcc_env = EmulatedDcc(tls=True)
    dcc_env.start()
    try:
        assert dcc_env.resource.startswith("https://127.0.0.1:")
        ca = dcc_env.secret("tls_ca")
        assert ca and ca.startswith("-----BEGIN CERTIFICATE")
        monkeypatch.setenv("MB_TEST_DCC_CA", ca)
        dcc = adapter(dcc_env.resource, [], ca_file="env:MB_TEST_DCC_CA")
        response = dcc.read_inventory("00DB120000000001", check=False)
        assert response.response_code == "E19"  # answered (the SMI has no such device)
        untrusted: list[float] = []
        stranger = adapter(dcc_env.resource, untrusted)
        with pytest.raises(InstrumentConnectError, match="certificate verify failed"):
            stranger.read_inventory("00DB120000000001")
        assert untrusted == []  # a certificate failure is not retried
    finally:
        dcc_env.stop()
