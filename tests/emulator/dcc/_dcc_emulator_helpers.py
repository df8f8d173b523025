"""Helpers for the emulated DCC's tests: reference requests, test users' signatures, benches."""

from __future__ import annotations

import time
import tomllib
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from harness.config.loader import parse_bench
from harness.emulator.bench import EmulatedBench
from harness.emulator.dcc import EmulatedDcc, user_party, web_service_for
from harness.emulator.world.credentials import shared_pki
from harness.protocols.duis import (
    ServiceRequest,
    ServiceResponse,
    build_request,
    parse_request,
    parse_response,
    sign,
)

REFERENCE = Path(__file__).resolve().parents[4] / "shared" / "reference" / "duis"
"""DCC's example requests (read in place, never copied)."""

LIFECYCLE_ORDER = (
    "12.2_DEVICE_PRE_NOTIFICATION_REQUEST_DUIS.XML",
    "CCS01_8.11_SUCCESS_REQUEST_DUIS.XML",
    "8.2_READ_INVENTORY_REQUEST_DUIS.XML",
    "CS10a_6.13_SUCCESS_REQUEST_DUIS.XML",
    "8.3_DECOMMISSION_DEVICE_REQUEST_DUIS.XML",
    "8.14.3_COMMUNICATIONS_HUB_STATUS_UPDATE_FAULT_RETURN_REQUEST_DUIS.XML",
    "8.14.4_COMMUNICATIONS_HUB_STATUS_UPDATE_NO_FAULT_RETURN_REQUEST_DUIS.XML",
)
"""Every reference request, in an order a device's life allows (pre-notify ... return)."""


def reference(name: str) -> bytes:
    """One reference request's bytes."""
    if not REFERENCE.is_dir():  # a clone on its own: say why, do not fail
        pytest.skip(f"DCC's reference requests are not beside this checkout ({REFERENCE})")
    return (REFERENCE / name).read_bytes()


def signed(request: ServiceRequest, user: str = "supplier") -> bytes:
    """``request`` signed by a built-in test user of the default test PKI."""
    party = user_party(shared_pki(0), user)
    return sign(build_request(request), party.private_key, party.certificate)


def user_id(user: str) -> str:
    """A built-in test user's User ID."""
    return user_party(shared_pki(0), user).eui64


def post(base_url: str, data: bytes, path: str | None = None) -> ServiceResponse:
    """POST ``data`` with a plain urllib client to the path its Command Variant names."""
    path = path or web_service_for(parse_request(data).command_variant)
    request = urllib.request.Request(base_url + path, data=data, method="POST",
                                     headers={"Content-Type": "application/xml"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200
        assert answer.headers.get_content_type() == "application/xml"
        return parse_response(answer.read())


SMALL_BENCH = """
[bench]
name = "dcc-test"

[instruments.psu]
kind = "power"
backend = "scpi"
emulated = true
options = {{ channels = 3, max_voltage = 253.0 }}

[instruments.dcc]
kind = "dcc"
backend = "duis"
emulated = true

[instruments.dcc.options]
relaxed_signatures = {relaxed}
reference_devices = {reference}
signing_key = "emulator:"
signing_certificate = "emulator:"
{extra}

[slots.esme]
device_type = "ESME"
supply_voltage = 230.0
instruments = {{ power = "psu:1" }}
emulation = {{ model = "EMU-ESME-1", seed = 1 }}

[slots.gsme]
device_type = "GSME"
supply_voltage = 3.6
instruments = {{ power = "psu:2" }}
emulation = {{ model = "EMU-GSME-1", seed = 2 }}

[slots.ch]
device_type = "CHF"
supply_voltage = 230.0
instruments = {{ power = "psu:3" }}
emulation = {{ model = "EMU-CH-1", seed = 3 }}
"""
"""A bench of a supply, the emulated DCC and three slots (no probes: quick to start)."""


@contextmanager
def small_bench(*, relaxed: bool = False, reference_devices: bool = False, powered: bool = True,
                extra: str = "") -> Iterator[EmulatedBench]:
    """The small bench, started (and its slots powered and booted unless ``powered=False``);
    ``extra``: more TOML lines for the DCC's options."""
    text = SMALL_BENCH.format(relaxed=str(relaxed).lower(),
                              reference=str(reference_devices).lower(), extra=extra)
    bench = EmulatedBench(parse_bench(tomllib.loads(text), source="small-bench.toml")).start()
    try:
        if powered:
            bench.power_slots()
            wait_ready(bench.devices.values())
        yield bench
    finally:
        bench.stop()


def dcc_of(bench: EmulatedBench) -> EmulatedDcc:
    """The bench's emulated DCC."""
    server = bench.servers["dcc"]
    assert isinstance(server, EmulatedDcc)
    return server


def wait_ready(devices: Any, timeout: float = 5.0) -> None:
    """Wait (wall clock) until every device has booted."""
    devices = list(devices)
    deadline = time.monotonic() + timeout
    while not all(d.ready for d in devices):
        assert time.monotonic() < deadline, "devices did not boot"
        time.sleep(0.01)
