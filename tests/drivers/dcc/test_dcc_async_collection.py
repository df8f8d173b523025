"""The asynchronous path: I99, then the response and alerts the DCC POSTs to the adapter."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from _dcc_driver_helpers import SilentPeer, adapter_for, instrument_config
from cryptography.hazmat.primitives import serialization

from harness.config.loader import default_bench_path, load_bench
from harness.domain.types import RemotePartyRole, SmiStatus
from harness.drivers.dcc import DccCredentials
from harness.drivers.dcc.base import DccTimeoutError
from harness.drivers.dcc.duis_http import DuisHttpAdapter
from harness.emulator.bench import EmulatedBench
from harness.emulator.dcc import EmulatedDcc, user_party
from harness.emulator.world.credentials import shared_pki
from harness.emulator.world.models import CommsHub, Esme
from harness.protocols.duis import (
    DuisAlert,
    ServiceResponse,
    build_alert,
    build_response,
    parse_request,
    sign,
)

DUMMY_MPAN = "1900000000123"
SUPPLIER = DccCredentials.from_party(user_party(shared_pki(0), "supplier"))


@pytest.fixture(scope="module")
def world() -> Iterator[tuple[EmulatedBench, DuisHttpAdapter]]:
    """The default emulated bench with its DCC answering device requests asynchronously."""
    config = load_bench(default_bench_path())
    dcc = config.instruments["dcc"]
    dcc = dcc.model_copy(update={"options": {**dcc.options, "async_responses": True,
                                             "async_delay_s": 0.02}})
    config = config.model_copy(update={"instruments": {**config.instruments, "dcc": dcc}})
    bench = EmulatedBench(config).start()
    try:
        bench.power_slots()
        deadline = time.monotonic() + 5
        while not all(d.ready for d in bench.devices.values()):
            assert time.monotonic() < deadline, "devices did not boot"
            time.sleep(0.01)
        adapter = adapter_for(bench, async_response_timeout_s=5.0)
        try:
            yield bench, adapter
        finally:
            adapter.close()
    finally:
        bench.stop()


@pytest.mark.usefixtures("permit")
def test_a_device_request_is_acknowledged_then_its_response_and_join_alert_collected(
        world: tuple[EmulatedBench, DuisHttpAdapter]) -> None:
    bench, dcc = world
    hub, esme = bench.devices["ch"], bench.devices["esme"]
    assert isinstance(hub, CommsHub) and isinstance(esme, Esme)
    emulated = bench.servers["dcc"]
    assert isinstance(emulated, EmulatedDcc) and emulated.async_responses
    if dcc.inventory_status(hub.eui64) is not SmiStatus.COMMISSIONED:  # CV 8: answered at once
        dcc.ch_status_update("8.14.1", hub.eui64, mpxn=DUMMY_MPAN, aerial_install=False,
                             location="Indoors on external wall")
    assert dcc.exchanges[-1].acknowledgement is None
    dcc.pre_notify(esme.eui64, device_type="ESME", manufacturer="EMUL", model="EMU-ESME-1",
                   firmware_version="010402")
    since = time.time()

    answer = dcc.whitelist(hub.eui64, esme.eui64, esme.label.install_code, mpxn=DUMMY_MPAN)

    exchange = dcc.exchanges[-1]
    assert exchange.acknowledgement is not None
    assert exchange.acknowledgement.response_code == "I99"
    assert answer.response_code == "I0" and answer.body["JoinResponse"] == "SUCCESS"
    assert answer.request_id == exchange.request.request_id
    assert dcc.receive_url is not None
    assert emulated.delivery.endpoints()[SUPPLIER.user_id] == dcc.receive_url

    alert = dcc.wait_for_alert(0x8F49, timeout=5.0, since=since)
    assert alert.kind == "DeviceAlertMessage" and alert.device_alert_code == 0x8F49
    assert alert.response_id is not None
    assert alert.response_id.startswith("-".join(hub.eui64[i:i + 2] for i in range(0, 16, 2)))
    assert [a.code for a in dcc.alerts(since=since)] == ["8F49"]
    assert dcc.inventory_status(esme.eui64) is SmiStatus.INSTALLED_NOT_COMMISSIONED
    received = [e.data for e in dcc.transcript.entries if e.direction == "<"]
    assert any(b"DeviceAlertMessage" in data for data in received)
    assert emulated.delivery.failures == type(emulated.delivery.failures)()


def acknowledging_peer() -> SilentPeer:
    """A fake DCC that acknowledges every request with I99 and never delivers a response."""
    def answer(body: bytes) -> bytes:
        request = parse_request(body)
        return build_response(ServiceResponse(request.request_id, request.variant, "I99"))
    return SilentPeer(answer)


def test_a_response_that_never_comes_is_a_timeout_naming_the_request_id() -> None:
    peer = acknowledging_peer()
    try:
        dcc = DuisHttpAdapter("dcc", instrument_config(async_response_timeout_s=0.3),
                              peer.url).open()
        dcc.use_credentials(SUPPLIER)
        try:
            started = time.monotonic()
            with pytest.raises(DccTimeoutError, match=r"acknowledged \(I99\) but no response"
                               ) as caught:
                dcc.read_firmware_version("00DB120000000001")
            assert 0.3 <= time.monotonic() - started < 3
            sent = parse_request(peer.requests[0])
            assert str(sent.request_id) in str(caught.value)
            assert caught.value.context["request_id"] == str(sent.request_id)
            assert dcc.exchanges == []
        finally:
            dcc.close()
    finally:
        peer.close()


def post(url: str, body: bytes) -> int:
    """POST ``body`` to ``url``; the HTTP status."""
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/xml"})
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def test_a_malformed_post_is_refused_and_recorded_and_the_endpoint_keeps_working() -> None:
    dcc_party = shared_pki(0).organisation(RemotePartyRole.ACCESS_CONTROL_BROKER)
    config = instrument_config(dcc_certificate=dcc_party.certificate.public_bytes(
        serialization.Encoding.PEM).decode("ascii"))
    dcc = DuisHttpAdapter("dcc", config, "http://127.0.0.1:1").open()
    try:
        url = dcc.receive_url
        assert url is not None
        assert post(url, b"<sr:Response>not DUIS") == 400
        assert post(url, b"<x/>") == 400
        assert [r.data for r in dcc.receiver.refused] == [b"<sr:Response>not DUIS", b"<x/>"]
        assert "not a DUIS response or alert" in dcc.receiver.refused[0].reason
        entries = [(e.direction, e.data) for e in dcc.transcript.entries]
        assert entries[0] == ("<", b"<sr:Response>not DUIS")
        assert entries[1][0] == ">" and entries[1][1].startswith(b"HTTP 400 not a DUIS")

        alert = DuisAlert("DCCAlertMessage", "N1", details={"Reason": "test"})
        assert post(url, build_alert(alert)) == 400  # unsigned: refused
        assert post(url, sign(build_alert(alert), dcc_party.private_key,
                              dcc_party.certificate)) == 204
        assert [a.code for a in dcc.alerts()] == ["N1"]
        assert dcc.wait_for_alert("N1", timeout=0.1).details == {"Reason": "test"}
        with pytest.raises(DccTimeoutError, match="no alert 8F49"):
            dcc.wait_for_alert(0x8F49, timeout=0.1)
    finally:
        dcc.close()
    assert dcc.receiver is None
