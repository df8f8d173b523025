"""The DCC adapter contract: sign a DUIS Service Request, deliver it, return the DUIS response.

:meth:`DccAdapter.send` is the one way a request leaves: it signs as the adapter's DCC user
(``credentials.py``), posts to the web service the Command Variant names (DCC Boxed's paths,
``WEB_SERVICES``), parses the answer, keeps both in the transcript, and (``check=True``)
raises on a DUIS error code.  A backend implements only :meth:`DccAdapter._post`.

Retries (tenacity, sleep injectable): a request that certainly did not reach the DCC
(connection refused, TLS or connect failure, send cut short) is sent again as it was.  One
whose delivery is uncertain (sent, then no answer) is sent again only if it is a read, and
then under a new RequestID; any other request raises :class:`DeliveryUncertainError`, saying
it was not re-sent, since the DCC may have applied it.  The DCC's answer is never retried.

Collected: a real DCC acknowledges a device request with I99 and later POSTs the device's
response (and alerts) to the user's own endpoint.  The adapter runs that endpoint
(``receiver.py``; its URL must be registered with a real DCC or DCC Boxed out of band, and is
registered with an emulated DCC by the backend), and :meth:`DccAdapter.send` waits for the
response with the acknowledged RequestID; :meth:`DccAdapter.alerts` and
:meth:`DccAdapter.wait_for_alert` give the alerts.
"""

from __future__ import annotations

import abc
import itertools
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

from harness.drivers.base import Instrument
from harness.drivers.dcc.credentials import DccCredentials, load_credentials, unresolved
from harness.drivers.dcc.receive_security import (
    ReceiveSecurity,
    load_receive_security,
    receive_unresolved,
)
from harness.drivers.dcc.receiver import MAX_BODY_BYTES, DuisReceiver
from harness.drivers.permit import SERVICE_REQUEST, require_permit
from harness.errors import (
    AccessDeniedError,
    InstrumentConnectError,
    InstrumentTimeoutError,
    OperationError,
)
from harness.protocols.duis import (
    DCC_EUI64,
    DuisAlert,
    DuisError,
    RequestId,
    ServiceRequest,
    ServiceResponse,
    build_request,
    parse_response,
    sign,
)
from harness.protocols.duis.codes import ACKNOWLEDGEMENT, INVALID_USER, ROLE_NOT_ELIGIBLE

__all__ = [
    "DESTRUCTIVE_VARIANTS",
    "READ_ONLY_VARIANTS",
    "WEB_SERVICES",
    "DccAccessDeniedError",
    "DccAdapter",
    "DccExchange",
    "DccResponseError",
    "DccTimeoutError",
    "DeliveryUncertainError",
    "NotDelivered",
    "Uncertain",
    "web_service_for",
]

WEB_SERVICES: dict[str, str] = {
    "Non-Device Service": "/api/v1/serviceD",
    "Send Command Service": "/api/v1/serviceS",
    "Transform Service": "/api/v1/serviceT",
}
"""DCC Boxed's DUIS paths (SmartDCCInnovation/dccboxed-nodered-nodes, dccboxed-send.ts)."""

_SERVICE_OF_CV = {1: "Send Command Service", 2: "Non-Device Service", 3: "Send Command Service",
                  4: "Transform Service", 5: "Send Command Service", 6: "Non-Device Service",
                  7: "Send Command Service", 8: "Non-Device Service"}
"""Command Variant → web service (@smartdcc/duis-parser, cv.ts)."""

READ_ONLY_VARIANTS = frozenset({"6.13", "7.4", "8.2", "8.9", "11.2", "MBP.1",
                                *(f"6.2.{n}" for n in range(1, 11))})
"""Requests that change nothing: safe to send again when delivery is uncertain."""


DESTRUCTIVE_VARIANTS = frozenset({"8.11", "8.1.1", "8.3", "MBP.2", "6.15.1", "6.15.2", "8.14.3",
                                  "8.14.4"})
"""Requests that change a device (its HAN whitelist, commissioning, credentials, the PROPOSED
reset, a hub's return withdrawing it from the inventory): each is sent only under a live
permit from the access gate and audited before it leaves and after its answer (issue 12)."""


def web_service_for(command_variant: int) -> str:
    """The path a request of ``command_variant`` is posted to."""
    service = _SERVICE_OF_CV.get(command_variant)
    if service is None:
        raise ValueError(f"no DUIS web service takes Command Variant {command_variant}")
    return WEB_SERVICES[service]


class NotDelivered(InstrumentConnectError):
    """Backend signal: the request certainly did not reach the DCC (safe to send again)."""


class Uncertain(InstrumentTimeoutError):
    """Backend signal: the request was sent but no answer came (the DCC may have it)."""


class DeliveryUncertainError(OperationError):
    """A state-changing request was sent and not answered; it was NOT sent again."""


class DccResponseError(OperationError):
    """The DCC answered with a DUIS error code; ``response`` is the whole answer."""

    def __init__(self, message: str = "", *, response: ServiceResponse | None = None,
                 **context: Any) -> None:
        super().__init__(message, **context)
        self.response = response

    @property
    def response_code(self) -> str | None:
        """The DUIS response code (E...)."""
        return self.response.response_code if self.response else None


class DccAccessDeniedError(DccResponseError, AccessDeniedError):
    """The DCC refused the user or its role (DUIS E1 / E2)."""


class DccTimeoutError(InstrumentTimeoutError):
    """A response the DCC acknowledged (I99), or an awaited alert, never arrived."""


@dataclass(frozen=True)
class DccExchange:
    """One request as sent and the answer to it."""

    request: ServiceRequest
    response: ServiceResponse
    attempts: int
    seconds: float
    acknowledgement: ServiceResponse | None = None


class DccAdapter(Instrument):
    """A DUIS endpoint (a DCC test environment, DCC Boxed, or the emulated DCC).

    Bench options: ``signing_key``, ``signing_certificate``, ``user_id`` (``credentials.py``),
    ``dcc_id`` (the RequestID target of non-device requests, default DCC's test EUI-64),
    ``retries`` (default 2), ``response_timeout_s`` (default 30); the instrument's
    ``timeout_s`` bounds connecting.  The receiving endpoint: ``receive`` (default true),
    ``receive_host`` (default 127.0.0.1), ``receive_port`` (default 0: a free port),
    ``receive_url`` (the URL the DCC posts to, default the endpoint's own), and how it
    trusts what is posted (``dcc_certificate``, ``receive_tls_*`` or an explicit
    ``receive_plain_http = true`` on loopback; ``receive_max_body_bytes``): see
    ``receive_security.py``.  Secret references among the options are resolved by the bench
    and handed over (``secrets``); one still unresolved (``emulator:`` material given to an
    adapter built outside an emulated bench) waits for :meth:`resolve_credentials`.
    ``async_response_timeout_s`` (default 60: how long an I99-acknowledged request waits
    for its response), ``receive_limit`` (default 1000 kept of each kind).
    """

    kind = "dcc"

    def __init__(self, *args: Any, sleep: Callable[[float], None] = time.sleep,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sleep = sleep
        self.credentials: DccCredentials | None = None
        self.exchanges: list[DccExchange] = []
        self._counter = itertools.count(int(time.time() * 1000))
        self._counter_lock = threading.Lock()
        self.receiver: DuisReceiver | None = None
        self._security: ReceiveSecurity | None = None
        self._registered: set[str] = set()

    # -- options and credentials ---------------------------------------------------------------

    def option(self, key: str, default: Any) -> Any:
        """A bench option of this instrument."""
        return self.config.options.get(key, default)

    @property
    def dcc_id(self) -> str:
        """The DCC's EUI-64: the RequestID target of a non-device (CV 8) request."""
        return str(self.option("dcc_id", DCC_EUI64))

    @property
    def response_timeout_s(self) -> float:
        """How long to wait for the DCC's answer once a request is sent."""
        return float(self.option("response_timeout_s", 30.0))

    def resolve_credentials(self, secrets: Mapping[str, str] | None = None, *,
                            base: Path | None = None) -> DccCredentials:
        """Load the signing credentials the bench options name, with ``secrets`` (the values
        of references the caller resolved late, e.g. ``emulator:`` ones) added to those the
        adapter was built with; start the receiver if it waited for them."""
        self.secrets.update(secrets or {})
        self.credentials = load_credentials(self.config.options, secrets=self.secrets,
                                            prefix=f"instruments.{self.name}.options",
                                            base=base)
        if self._receiving:
            self._security = self._receive_security(base=base)
            if self.is_open and self.receiver is None:
                self._start_receiver(self._security)
        return self.credentials

    def use_credentials(self, credentials: DccCredentials) -> None:
        """Sign as another DCC user from now on (e.g. a Supplier, then an RSA)."""
        self.credentials = credentials

    def _open_internal(self) -> None:
        """Load the credentials now unless they wait for the emulator, then open the link."""
        options = self.config.options
        if (self.credentials is None and "signing_key" in options
                and not unresolved(options, self.secrets)):
            self.resolve_credentials()
        self._open_link()
        if (self._receiving and self._security is None
                and not receive_unresolved(options, self.secrets)):
            self._security = self._receive_security()
        if self._receiving and self._security is not None:
            self._start_receiver(self._security)
        # else: the receiver starts once resolve_credentials(...) has its material

    @property
    def _receiving(self) -> bool:
        """Whether this adapter runs a receiving endpoint (option ``receive``, default on)."""
        return bool(self.option("receive", True))

    def _receive_security(self, *, base: Path | None = None) -> ReceiveSecurity:
        """The receiving endpoint's trusted DCC certificates and TLS (receive_security.py)."""
        return load_receive_security(self.config.options,
                                     prefix=f"instruments.{self.name}.options", base=base,
                                     secrets=self.secrets,
                                     host=str(self.option("receive_host", "127.0.0.1")))

    def _close_internal(self) -> None:
        """Stop the receiving endpoint (a backend closes its link, then calls this)."""
        if self.receiver is not None:
            self.receiver.stop()
            self.receiver = None
        self._registered.clear()

    # -- responses and alerts the DCC posts ----------------------------------------------------

    @property
    def receive_url(self) -> str | None:
        """The URL the DCC posts responses and alerts to (None without an endpoint)."""
        if self.receiver is None:
            return None
        return str(self.option("receive_url", self.receiver.url))

    def _start_receiver(self, security: ReceiveSecurity) -> None:
        """Listen on ``receive_host``:``receive_port`` (a clear error if it cannot)."""
        host = str(self.option("receive_host", "127.0.0.1"))
        port = int(self.option("receive_port", 0))
        try:
            self.receiver = DuisReceiver(
                host, port, limit=int(self.option("receive_limit", 1000)),
                record=self.transcript.record, trusted=security.dcc_certificates,
                tls=security.tls,
                max_body=int(self.option("receive_max_body_bytes", MAX_BODY_BYTES))).start()
        except OSError as exc:
            raise InstrumentConnectError(
                f"{self.name}: cannot listen for the DCC's responses on {host}:{port} "
                f"(options receive_host/receive_port): {exc}", instrument=self.name) from None

    def _ensure_registered(self) -> None:
        """Tell an emulated DCC where this user's responses go (once per user)."""
        user = self._require_credentials().user_id
        url = self.receive_url
        if url is None or user in self._registered:
            return
        self._register_receiver(user, url)
        self._registered.add(user)

    def _register_receiver(self, user_id: str, url: str) -> None:
        """Backend hook: register ``url`` for ``user_id`` where that can be done in band
        (only an emulated DCC; a real one is configured out of band).  Default: nothing."""

    def _collect(self, request: ServiceRequest) -> ServiceResponse:
        """The response the DCC posts for acknowledged ``request`` (DccTimeoutError if none)."""
        assert self.receiver is not None
        timeout = float(self.option("async_response_timeout_s", 60.0))
        response = self.receiver.wait_for_response(str(request.request_id), timeout)
        if response is None:
            raise DccTimeoutError(
                f"{self.name}: {request.variant} {request.request_id} was acknowledged (I99) "
                f"but no response reached {self.receive_url} within {timeout:g} s",
                instrument=self.name, request_id=str(request.request_id))
        return response

    def _require_receiver(self) -> DuisReceiver:
        """The receiving endpoint, or an error saying it is switched off."""
        self._require_open()
        if self.receiver is None:
            why = ("its emulator: TLS material is not resolved yet (resolve_credentials("
                   "secrets))" if self._receiving else "option receive = false")
            raise OperationError(f"{self.name}: no receiving endpoint ({why}): alerts are "
                                 "not collected", instrument=self.name)
        return self.receiver

    def alerts(self, since: float | None = None) -> list[DuisAlert]:
        """Alerts the DCC posted at or after ``since`` (``time.time()``), oldest first."""
        return [item.message for item in self._require_receiver().alerts(since)
                if isinstance(item.message, DuisAlert)]

    def wait_for_alert(self, code: str | int, timeout: float = 10.0,
                       since: float | None = None) -> DuisAlert:
        """The first alert with ``code`` (``0x8F49``, ``"8F49"`` or a DCC alert code such as
        ``"N1"``) at or after ``since``; DccTimeoutError after ``timeout`` seconds."""
        text = f"{code:04X}" if isinstance(code, int) else str(code)
        alert = self._require_receiver().wait_for_alert(text, timeout, since)
        if alert is None:
            raise DccTimeoutError(f"{self.name}: no alert {text} reached {self.receive_url} "
                                  f"within {timeout:g} s", instrument=self.name, alert=text)
        return alert

    # -- requests ------------------------------------------------------------------------------

    def request_id(self, target: str | None = None) -> RequestId:
        """A fresh RequestID from the adapter's user to ``target`` (the DCC if None).

        Counters start at the current time in milliseconds and only increase, so they stay
        unique across runs of the same user."""
        user = self._require_credentials().user_id
        with self._counter_lock:
            counter = next(self._counter)
        return RequestId(user, target or self.dcc_id, counter)

    def _require_credentials(self) -> DccCredentials:
        """The credentials, or an error saying how to provide them."""
        if self.credentials is None:
            raise OperationError(
                f"{self.name}: no signing credentials; the bench names emulator: secrets: call "
                "resolve_credentials(secrets) or use_credentials(...)", instrument=self.name)
        return self.credentials

    def sign(self, request: ServiceRequest) -> bytes:
        """The signed XML of ``request``."""
        creds = self._require_credentials()
        return sign(build_request(request), creds.private_key, creds.certificate)

    def send(self, request: ServiceRequest, *, check: bool = True) -> ServiceResponse:
        """Sign, deliver and answer ``request`` (retries as the module doc says).

        ``check``: raise :class:`DccResponseError` (:class:`DccAccessDeniedError` for E1/E2)
        unless the DCC answered I0 or I99.  A destructive request (``DESTRUCTIVE_VARIANTS``)
        needs the access gate's live permit (AccessDeniedError, nothing sent, without one);
        its STARTED audit entry is committed before it leaves and DONE, REFUSED (E1/E2) or
        FAILED is written once it is answered."""
        self._require_open()
        if request.variant not in DESTRUCTIVE_VARIANTS:
            return self._send(request, check=check)
        permit = require_permit(SERVICE_REQUEST, f"{request.variant} {request.spec.name}",
                                instrument=self.name)
        detail = {"request_id": str(request.request_id), "instrument": self.name,
                  "signer": self._require_credentials().user_id}
        action = f"{request.variant} {request.spec.name}"
        permit.record(action, "started", detail)
        try:
            response = self._send(request, check=check)
        except BaseException as exc:
            code = getattr(exc, "response_code", None)
            outcome = "refused" if code in (INVALID_USER, ROLE_NOT_ELIGIBLE) else "failed"
            permit.record(action, outcome, {**detail, "why": f"{type(exc).__name__}: {exc}"})
            raise
        outcome = ("done" if response.success else "refused" if response.response_code in (
            INVALID_USER, ROLE_NOT_ELIGIBLE) else "failed")
        permit.record(action, outcome, {**detail, "response_code": response.response_code})
        return response

    def _send(self, request: ServiceRequest, *, check: bool) -> ServiceResponse:
        """:meth:`send` once the gate has had its say."""
        path = web_service_for(request.command_variant)
        read_only = request.variant in READ_ONLY_VARIANTS
        started = time.monotonic()
        attempts = 0
        state = {"request": request}
        self._ensure_registered()

        def again(exc: BaseException) -> bool:
            """Whether tenacity should try again after ``exc``."""
            return isinstance(exc, NotDelivered) or (read_only and isinstance(exc, Uncertain))

        def before_sleep(retry: RetryCallState) -> None:
            """Log the retry; an uncertain read goes again under a fresh RequestID."""
            outcome = retry.outcome.exception() if retry.outcome else None
            if isinstance(outcome, Uncertain):  # re-send a read under a fresh RequestID
                old = state["request"]
                state["request"] = replace(old, request_id=self.request_id(
                    old.request_id.target))
            self.log.info("%s %s: %s; sending again", request.variant, path, outcome)

        policy = Retrying(stop=stop_after_attempt(int(self.option("retries", 2)) + 1),
                          wait=wait_exponential(multiplier=0.2, max=2.0), sleep=self.sleep,
                          retry=retry_if_exception(again), before_sleep=before_sleep,
                          reraise=True)
        try:
            for attempt in policy:
                with attempt:
                    attempts += 1
                    raw = self._deliver(path, state["request"])
        except NotDelivered as exc:
            raise InstrumentConnectError(
                f"{self.name}: {request.variant} not delivered to {self.address}{path} after "
                f"{attempts} attempt(s): {exc}", instrument=self.name) from None
        except Uncertain as exc:
            if read_only:
                raise InstrumentTimeoutError(
                    f"{self.name}: {request.variant} unanswered after {attempts} attempt(s): "
                    f"{exc}", instrument=self.name) from None
            raise DeliveryUncertainError(
                f"{self.name}: {request.variant} {request.request_id} was sent but not answered "
                f"({exc}); NOT sent again since the DCC may have applied it: check (e.g. with "
                "8.2 Read Inventory) before repeating", instrument=self.name,
                request_id=str(request.request_id)) from None
        sent = state["request"]
        try:
            response = parse_response(raw, source=f"{self.address}{path}")
        except DuisError as exc:
            raise OperationError(f"{self.name}: the answer to {sent.variant} is not a DUIS "
                                 f"response: {exc}", instrument=self.name) from None
        acknowledgement = None
        if response.response_code == ACKNOWLEDGEMENT and self.receiver is not None:
            acknowledgement, response = response, self._collect(sent)
        self.exchanges.append(DccExchange(sent, response, attempts,
                                          time.monotonic() - started, acknowledgement))
        if check:
            self._check(sent, response)
        return response

    def _deliver(self, path: str, request: ServiceRequest) -> bytes:
        """One attempt: sign, post, record both ways."""
        body = self.sign(request)
        if self.receiver is not None:  # a response posted for this RequestID is awaited
            self.receiver.expect(str(request.request_id))
        self.transcript.record(">", body)
        raw = self._post(path, body, connect_timeout=self.config.timeout_s,
                         response_timeout=self.response_timeout_s)
        self.transcript.record("<", raw)
        return raw

    def _check(self, request: ServiceRequest, response: ServiceResponse) -> None:
        """Raise for a DUIS error code (access errors apart) or an unsupported pre-command."""
        if response.success:
            if response.body_tag == "PreCommand":
                raise OperationError(
                    f"{self.name}: the DCC returned a pre-command for critical {request.variant}"
                    ": signing GBCS pre-commands (CV 5) is not supported", instrument=self.name)
            return
        cls = (DccAccessDeniedError if response.response_code in (INVALID_USER,
                                                                   ROLE_NOT_ELIGIBLE)
               else DccResponseError)
        raise cls(f"{self.name}: {request.variant} {request.spec.name} refused: "
                  f"{response.response_code} {response.message}".rstrip(),
                  response=response, instrument=self.name, variant=request.variant)

    # -- instrument contract -------------------------------------------------------------------

    def _safe_state_internal(self, safe_state: dict[str, Any]) -> None:
        """A DCC adapter drives no outputs: nothing to make safe."""

    # -- backend hooks -------------------------------------------------------------------------

    @abc.abstractmethod
    def _open_link(self) -> None:
        """Prepare the link (TLS context, ...); raise if the address is unusable."""

    @abc.abstractmethod
    def _post(self, path: str, body: bytes, *, connect_timeout: float,
              response_timeout: float) -> bytes:
        """POST ``body`` to ``path``; the response body.  Raise NotDelivered or Uncertain."""
