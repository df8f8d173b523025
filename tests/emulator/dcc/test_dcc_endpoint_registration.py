"""The emulated DCC's (non-DUIS) registration of a user's receiving endpoint."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from _dcc_emulator_helpers import user_id

from harness.emulator.dcc import EmulatedDcc


@pytest.fixture()
def dcc() -> Iterator[EmulatedDcc]:
    """An emulated DCC with no bench devices, serving."""
    emulated = EmulatedDcc(reference_devices=False)
    emulated.start()
    try:
        yield emulated
    finally:
        emulated.stop()


def register(dcc: EmulatedDcc, body: bytes) -> tuple[int, str]:
    """POST ``body`` to /emulator/endpoint: the HTTP status and text."""
    request = urllib.request.Request(dcc.resource + "/emulator/endpoint", data=body,
                                     method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return int(answer.status), answer.read().decode()
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read().decode()


def test_a_user_registers_its_endpoint(dcc: EmulatedDcc) -> None:
    supplier = user_id("supplier")
    body = json.dumps({"user_id": supplier, "url": "http://127.0.0.1:9/duis"}).encode()
    assert register(dcc, body) == (204, "")
    assert dcc.delivery.endpoints() == {supplier: "http://127.0.0.1:9/duis"}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "Expecting property name"),
        (b"[]", "expected a JSON object"),
        (json.dumps({"user_id": "00DB120000000001"}).encode(), "expected string fields"),
        (json.dumps({"user_id": "00DB120000000001", "url": "ftp://x/"}).encode(),
         "is not an http(s) URL"),
    ],
)
def test_a_bad_registration_is_refused_saying_why(dcc: EmulatedDcc, body: bytes,
                                                  reason: str) -> None:
    status, text = register(dcc, body)
    assert status == 400 and reason in text and "/emulator/endpoint" in text
    assert dcc.delivery.endpoints() == {}

