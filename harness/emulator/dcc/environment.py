"""The emulated DCC environment: inventory, users, network and service behind one HTTP server.

``serve_dcc`` is what ``EmulatedBench`` calls for an ``emulated = true`` instrument of kind
``dcc``.  Bench options it reads (all optional):

- ``relaxed_signatures`` (default false): also accept DCC's reference requests, whose
  signatures are placeholders; strict verification otherwise.
- ``reference_devices`` (default: as ``relaxed_signatures``): run the DCC's own test devices
  the reference requests address (``reference.py``) and seed the SMI with them.
- ``user`` (default ``supplier``): the built-in test user (``users.TEST_USERS``) whose
  credentials ``emulator:`` secret references of this instrument resolve to.
- ``tls`` (default false): serve HTTPS with a self-signed loopback certificate.
- ``pki_seed`` (default 0): the test PKI the users' certificates come from.
- ``async_responses`` (default false): answer a successful device request (Command Variant
  1, 2 or 3) with I99 and POST its response to the sender's registered endpoint
  ``async_delay_s`` (default 0.05) later, as a real DCC does; and POST the device alerts the
  emulator models (the CHF's 0x8F49 "device joining succeeded") to every registered endpoint
  (modelled: the domain page gives no alert routing rule).  Refusals are still answered at
  once, even those a real DCC would deliver later (E20/E21).  Endpoints are registered by
  ``POST /emulator/endpoint`` (``delivery.py``).

The SMI is seeded with the bench's devices as they are (status, identity; a hub with its GPF)
and follows ``EmulatedBench.present``: a device put in a slot is entered if the SMI does not
know it yet.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives import serialization

from harness.config.models import InstrumentConfig
from harness.domain.types import DeviceType, RemotePartyRole
from harness.emulator.dcc.delivery import AsyncDelivery
from harness.emulator.dcc.inventory import DeviceRecord, SmartMeteringInventory
from harness.emulator.dcc.network import COMMS_FAILURE, DccNetwork, JoinOutcome
from harness.emulator.dcc.receiver_tls import ReceiverTls
from harness.emulator.dcc.reference import (
    build_reference_devices,
    install_reference_site,
    reference_records,
)
from harness.emulator.dcc.server import DccHttpServer
from harness.emulator.dcc.service import WEB_SERVICES, DccService
from harness.emulator.dcc.tls import self_signed_context
from harness.emulator.dcc.users import TEST_USERS, UserRegistry, private_key_pem, user_party
from harness.emulator.world.clock import Clock
from harness.emulator.world.credentials import shared_pki
from harness.emulator.world.device import EmulatedDevice
from harness.emulator.world.models import CommsHub
from harness.errors import BenchConfigError
from harness.protocols.duis import (
    DuisAlert,
    DuisError,
    RequestId,
    ServiceResponse,
    build_alert,
    build_response,
)
from harness.protocols.duis.alerts import DEVICE_ALERT
from harness.protocols.duis.codes import ACKNOWLEDGEMENT, SUCCESS
from harness.protocols.gbcs_alerts import GbcsAlert

__all__ = ["EmulatedDcc", "serve_dcc"]

log = logging.getLogger("meterbench.emulator.dcc")

TEST_SITE_TIMEOUT_S = 10.0
"""Longest a request waits (wall clock) for the DCC's test devices to boot."""
ASYNC_COMMAND_VARIANTS = frozenset({1, 2, 3})
"""Command Variants of device requests answered asynchronously (I99) under async_responses."""


def _record_for(device: EmulatedDevice, origin: str) -> list[DeviceRecord]:
    """SMI records for a bench device as it is now (a hub with its GPF)."""
    identity = device.identity
    common: dict[str, Any] = {
        "manufacturer": identity.manufacturer, "model": identity.model,
        "firmware_version": identity.firmware_version,
        "smets_chts_version": identity.smets_version, "origin": origin,
    }
    if isinstance(device, CommsHub):
        return [DeviceRecord(device.eui64, DeviceType.CHF, device.status,
                             gpf_id=device.gpf_eui64, **common),
                DeviceRecord(device.gpf_eui64, DeviceType.GPF, device.status,
                             chf_id=device.eui64, **common)]
    return [DeviceRecord(device.eui64, device.device_type, device.status, **common)]


class EmulatedDcc:
    """One emulated DCC: its SMI, users, network, service and HTTP server."""

    def __init__(self, bench_devices: Mapping[str, EmulatedDevice] | None = None, *,
                 clock: Clock | None = None, relaxed: bool = False,
                 reference_devices: bool | None = None, user: str = "supplier",
                 pki_seed: int = 0, host: str = "127.0.0.1", port: int = 0,
                 tls: bool = False, async_responses: bool = False,
                 async_delay_s: float = 0.05) -> None:
        if user not in TEST_USERS:
            raise BenchConfigError(f"unknown emulated DCC user {user!r}",
                                   expected="one of " + ", ".join(TEST_USERS))
        self.clock = clock or Clock()
        self.pki = shared_pki(pki_seed)
        self.user = user
        self.inventory = SmartMeteringInventory()
        self.users = UserRegistry.with_test_users(self.pki)
        self.network = DccNetwork(bench_devices)
        self.async_responses = async_responses
        # The DCC signs what it posts (its Access Control Broker key) and posts over mutual
        # TLS with a client certificate the adapter's endpoint requires (receiver_tls.py).
        self.dcc_party = self.pki.organisation(RemotePartyRole.ACCESS_CONTROL_BROKER)
        self.receiver_tls = ReceiverTls.generate()
        self.delivery = AsyncDelivery(
            async_delay_s, signer=(self.dcc_party.private_key, self.dcc_party.certificate),
            client_tls=self.receiver_tls.client_context())
        self._alert_counter = itertools.count(int(time.time() * 1000))
        self.service = DccService(self.inventory, self.users, self.network, relaxed=relaxed,
                                  before=self._ensure_test_site,
                                  on_join=self._join_alert if async_responses else None)
        self.test_devices: list[EmulatedDevice] = []
        self._with_test_devices = relaxed if reference_devices is None else reference_devices
        self._test_site_ready = not self._with_test_devices
        self._bench_devices = bench_devices or {}
        server_tls = self_signed_context(host) if tls else None
        self.tls_certificate_pem = server_tls.certificate_pem if server_tls else None
        self.http = DccHttpServer(self._answer, host, port,
                                  tls=server_tls.context if server_tls else None,
                                  register=self.delivery.register_json)

    # -- the EmulatedServer protocol ------------------------------------------------------------

    @property
    def resource(self) -> str:
        """The base URL a DCC adapter is given (``http://127.0.0.1:PORT``)."""
        return self.http.base_url

    @property
    def addresses(self) -> dict[str, str]:
        """The DUIS endpoint URLs, by web service name."""
        return {name: self.http.base_url + path for path, name in WEB_SERVICES.items()}

    def start(self) -> None:
        """Seed the SMI, power the DCC's test devices, and serve."""
        for slot, device in self._bench_devices.items():
            self._enter(device, f"bench slot {slot}")
        if self._with_test_devices:
            self.test_devices = build_reference_devices(self.clock, self.pki)
            for device in self.test_devices:
                self.network.add_test_device(device)
                device.supply(device.nominal_voltage)
            for record in reference_records(self.test_devices):
                self.inventory.seed(record, "DCC test device (reference test data)")
        self.delivery.start()
        self.http.start()
        log.info("emulated DCC at %s (%s signatures)", self.resource,
                 "relaxed" if self.service.relaxed else "strict")

    def stop(self) -> None:
        """Stop serving and switch the DCC's test devices off; safe to call twice."""
        self.http.stop()
        self.delivery.stop()
        for device in self.test_devices:
            device.supply(0.0)

    # -- bench hooks ---------------------------------------------------------------------------

    def on_present(self, slot: str, device: EmulatedDevice) -> None:
        """A device was put in ``slot``: the SMI learns of it if it did not know it."""
        self._enter(device, f"bench slot {slot}")

    def secret(self, key: str) -> str | None:
        """``emulator:`` secrets of this instrument: the configured test user's credentials.

        Keys: ``signing_key`` (PKCS#8 PEM), ``signing_certificate`` (PEM), ``user_id``, and
        ``tls_ca`` (the HTTPS listener's self-signed certificate, when ``tls`` is on),
        ``dcc_certificate`` (what the DCC signs its posts with) and ``receive_tls_*`` (the
        adapter's receiving endpoint's mutual-TLS material, ``receiver_tls.py``); a key
        ``USER/KEY`` (e.g. ``rsa/signing_key``) answers for another built-in test user.
        """
        if key == "tls_ca":
            return self.tls_certificate_pem
        if key == "dcc_certificate":
            return self.dcc_party.certificate.public_bytes(
                serialization.Encoding.PEM).decode("ascii")
        if key.startswith("receive_tls_"):
            return self.receiver_tls.secret(key)
        user, _, key = key.rpartition("/")
        if user and user not in TEST_USERS:
            return None
        party = user_party(self.pki, user or self.user)
        if key == "signing_key":
            return private_key_pem(party.private_key)
        if key == "signing_certificate":
            return party.certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")
        if key == "user_id":
            return party.eui64
        return None

    def _enter(self, device: EmulatedDevice, origin: str) -> None:
        """Seed the SMI with a bench device (and a hub's GPF) it does not know yet."""
        for record in _record_for(device, origin):
            if self.inventory.find(record.device_id) is None:
                self.inventory.seed(record, origin)

    # -- requests ------------------------------------------------------------------------------

    def handle(self, data: bytes, path: str | None = None) -> ServiceResponse:
        """Answer one DUIS request as the HTTP server would (for in-process callers)."""
        return self._respond(data, path, "request")

    def _answer(self, data: bytes, path: str) -> ServiceResponse:
        """The HTTP server's hook: one request posted to ``path``."""
        return self._respond(data, path, f"POST {path}")

    def _respond(self, data: bytes, path: str | None, source: str) -> ServiceResponse:
        """The synchronous answer; under ``async_responses`` a successful device request's
        response is queued for its sender's endpoint and I99 answered instead."""
        exchange = self.service.handle_exchange(data, path=path, source=source)
        request, response = exchange.request, exchange.response
        if not (self.async_responses and request is not None and exchange.user is not None
                and request.command_variant in ASYNC_COMMAND_VARIANTS
                and response.response_code == SUCCESS):
            return response
        self.delivery.send(exchange.user, build_response(response))
        return ServiceResponse(request_id=request.request_id, variant=request.variant,
                               response_code=ACKNOWLEDGEMENT,
                               service_reference=response.service_reference)

    def _join_alert(self, outcome: JoinOutcome) -> None:
        """POST the CHF's 0x8F49 "device joining succeeded" to every registered endpoint.

        Modelled: ResponseID is the hub (originator), the user (target) and a counter; no
        GBCSPayload (the emulator encodes no GBCS)."""
        code = f"{GbcsAlert.DEVICE_JOINING_SUCCEEDED:04X}"
        for user in self.delivery.endpoints():
            alert = DuisAlert(DEVICE_ALERT, code, response_id=str(
                RequestId(outcome.hub_id, user, next(self._alert_counter))))
            self.delivery.send(user, build_alert(alert))

    def _ensure_test_site(self) -> None:
        """Before the first request: wait for the test devices to boot, then install them."""
        if self._test_site_ready:
            return
        deadline = time.monotonic() + TEST_SITE_TIMEOUT_S
        while not all(d.ready for d in self.test_devices):
            if time.monotonic() > deadline:
                raise DuisError("the DCC's test devices have not started",
                                response_code=COMMS_FAILURE)
            time.sleep(0.01)
        install_reference_site(self.test_devices)
        self._test_site_ready = True


def serve_dcc(name: str, inst: InstrumentConfig, devices: Mapping[str, EmulatedDevice],
              clock: Clock, host: str = "127.0.0.1") -> EmulatedDcc:
    """The emulated DCC for instrument ``name`` (see the module doc for its options)."""
    options = dict(inst.options)  # the driver's options (signing_key, ...) are here too
    relaxed = bool(options.get("relaxed_signatures", False))
    reference = options.get("reference_devices")
    return EmulatedDcc(devices, clock=clock, relaxed=relaxed,
                       reference_devices=None if reference is None else bool(reference),
                       user=str(options.get("user", "supplier")),
                       pki_seed=int(options.get("pki_seed", 0)), host=host,
                       port=inst.emulator.port, tls=bool(options.get("tls", False)),
                       async_responses=bool(options.get("async_responses", False)),
                       async_delay_s=float(options.get("async_delay_s", 0.05)))
