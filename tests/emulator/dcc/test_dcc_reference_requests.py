"""DCC's reference requests posted by a plain HTTP client to the running emulated bench's DCC."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator

import pytest
from _dcc_emulator_helpers import LIFECYCLE_ORDER, REFERENCE, dcc_of, post, reference, small_bench

from harness.config.loader import default_bench_path, load_bench
from harness.domain.types import SmiStatus
from harness.emulator.bench import EmulatedBench
from harness.emulator.dcc import EmulatedDcc
from harness.protocols.duis import parse_request
from harness.protocols.duis.codes import SIGNATURE_INVALID, SUCCESS


@pytest.fixture(scope="module")
def default_bench() -> Iterator[EmulatedBench]:
    """benches/emulated.toml as ``meterbench emulate`` serves it (relaxed signatures)."""
    bench = EmulatedBench(load_bench(default_bench_path())).start()
    try:
        yield bench
    finally:
        bench.stop()


def test_every_reference_file_is_in_the_lifecycle_order() -> None:
    if not REFERENCE.is_dir():
        pytest.skip(f"DCC's reference requests are not beside this checkout ({REFERENCE})")
    assert sorted(p.name for p in REFERENCE.glob("*.XML")) == sorted(LIFECYCLE_ORDER)


def test_the_emulate_json_lists_the_dcc_endpoints(default_bench: EmulatedBench) -> None:
    described = default_bench.describe()["instruments"]["dcc"]
    assert described["kind"] == "dcc"
    assert described["address"].startswith("http://127.0.0.1:")
    assert described["addresses"]["Non-Device Service"] == described["address"] + (
        "/api/v1/serviceD")


def test_each_reference_request_is_accepted_and_answered_in_duis(
        default_bench: EmulatedBench) -> None:
    dcc = dcc_of(default_bench)
    base = default_bench.addresses["dcc"]
    answers = {}
    for name in LIFECYCLE_ORDER:
        data = reference(name)
        response = post(base, data)
        request = parse_request(data)
        assert response.request_id == request.request_id, name
        assert response.variant == request.variant, name
        answers[request.variant] = response
        assert response.response_code == SUCCESS, (name, response.message)
    # What the answers say is what happened: A0 went Pending -> Whitelisted -> joined its
    # hub (Installed Not Commissioned) -> Decommissioned; the hub A2 was returned.
    assert dcc.inventory.status_history("00DB1234567890A0") == [
        SmiStatus.PENDING, SmiStatus.WHITELISTED, SmiStatus.INSTALLED_NOT_COMMISSIONED,
        SmiStatus.DECOMMISSIONED]
    assert dcc.inventory.get("00DB1234567890A2").status is SmiStatus.WITHDRAWN
    inventory = answers["8.2"].body["Device"]
    assert inventory[0]["DeviceID"] == "00-DB-12-34-56-78-90-A2"
    assert {d["DeviceID"] for d in inventory} >= {"00-DB-12-34-56-78-90-A0",
                                                  "00-DB-12-34-56-78-90-A1"}
    assert answers["8.11"].body["JoinResponse"] == "SUCCESS"
    assert answers["8.11"].response_id == "00-DB-12-34-56-78-90-A2:90-B3-D5-1F-30-01-00-00:1002"
    codes = [e["AlertCode"] for e in answers["6.13"].body["LogEntry"]]
    assert "0x8F69" in codes  # A1 was commissioned
    returned = dict(dcc.inventory.get("00DB1234567890A2").ch_return)
    assert returned["CHFNoFaultReturnType"] == "No Fault Return (general)"


def test_meterbench_emulate_serves_the_dcc_to_a_plain_http_client() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "harness", "emulate", "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        described = json.loads(proc.stdout.readline())
        url = described["instruments"]["dcc"]["addresses"]["Non-Device Service"]
        data = reference("8.2_READ_INVENTORY_REQUEST_DUIS.XML")
        request = urllib.request.Request(url, data=data, method="POST",
                                         headers={"Content-Type": "application/xml"})
        with urllib.request.urlopen(request, timeout=10) as answer:
            text = answer.read()
        assert text.startswith(b"<?xml") and b"<sr:Response" in text
        assert b"<sr:ResponseCode>I0</sr:ResponseCode>" in text
        assert b"<sr:DSPInventory>" in text
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)


def test_with_strict_signatures_each_is_rejected_as_badly_signed() -> None:
    with small_bench(relaxed=False, reference_devices=True, powered=False) as bench:
        dcc = dcc_of(bench)
        before, version = dcc.inventory.snapshot(), dcc.inventory.version
        for name in LIFECYCLE_ORDER:
            response = post(bench.addresses["dcc"], reference(name))
            assert response.response_code == SIGNATURE_INVALID, name
            assert "placeholder" in response.message
        assert dcc.inventory.snapshot() == before
        assert dcc.inventory.changes(since=version) == []


def test_a_fault_return_alone_is_accepted_with_its_vocabulary() -> None:
    dcc = EmulatedDcc(relaxed=True)
    dcc.start()
    try:
        name = LIFECYCLE_ORDER[5]
        response = post(dcc.resource, reference(name))
        assert response.response_code == SUCCESS
        details = dict(dcc.inventory.get("00DB1234567890A2").ch_return)
        assert details == {"variant": "8.14.3",
                           "CHFFaultReturnType": "Fault identified prior to installation",
                           "CHFConnectionMethod": "Hot-shoe", "CHFFaultReason": "Damaged case",
                           "OtherDeviceID": "00-DB-12-34-56-78-90-A0"}
    finally:
        dcc.stop()
