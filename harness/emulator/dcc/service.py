"""The emulated DCC's service core: bytes of a DUIS request in, a DUIS response out.

Order (each step refuses with the DUIS-style code a user would see, and a refused request
changes nothing): parse (malformed → EMB01/EMB02), verify the signature against the
registered users' certificates (strict; ``relaxed`` also accepts DCC's placeholder signatures,
the user then being the RequestID's originator), match the user (E1 unknown user or an
originator that is not the signer's User ID), check the web service path fits the Command
Variant (E13, DCC Boxed's paths), check one of the user's roles is eligible (E2), then run the
variant's handler inside one inventory transaction.  Which of a user's roles a request is sent
under is not modelled beyond "any eligible one" (the domain page ties no role to a device).

Before a request is applied (and after every request) the DCC lets the network settle:
whitelisted meters join their hub, and a hub reported installed that is on the SM WAN is
commissioned with its GPF.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from harness.domain.types import DeviceType, SmiStatus
from harness.emulator.dcc.context import Handler, RequestContext
from harness.emulator.dcc.handlers_device import DEVICE_HANDLERS
from harness.emulator.dcc.handlers_inventory import INVENTORY_HANDLERS
from harness.emulator.dcc.handlers_proposed import PROPOSED_HANDLERS
from harness.emulator.dcc.inventory import SmartMeteringInventory
from harness.emulator.dcc.network import NO_RESPONSE, DccNetwork, JoinOutcome
from harness.emulator.dcc.users import DccUser, UserRegistry
from harness.emulator.guard import report_unexpected
from harness.emulator.world.models import CommsHub
from harness.errors import OperationError
from harness.protocols.duis import (
    DuisAuthorisationError,
    DuisError,
    RequestId,
    ServiceRequest,
    ServiceResponse,
    UserRole,
    eligible_roles,
    parse_request,
    verify,
)
from harness.protocols.duis.codes import (
    INVALID_USER,
    MALFORMED,
    ROLE_NOT_ELIGIBLE,
    UNKNOWN_VARIANT,
)

__all__ = ["HANDLERS", "WEB_SERVICES", "DccService", "Exchange", "web_service_for"]

log = logging.getLogger("meterbench.emulator.dcc")

HANDLERS: dict[str, Handler] = {**INVENTORY_HANDLERS, **DEVICE_HANDLERS, **PROPOSED_HANDLERS}
"""Every Service Reference Variant the emulated DCC serves."""

WEB_SERVICES: dict[str, str] = {
    "/api/v1/serviceD": "Non-Device Service",
    "/api/v1/serviceS": "Send Command Service",
    "/api/v1/serviceT": "Transform Service",
}
"""DCC Boxed's DUIS paths (SmartDCCInnovation/dccboxed-nodered-nodes, dccboxed-send.ts)."""

_SERVICE_OF_CV = {1: "Send Command Service", 2: "Non-Device Service", 3: "Send Command Service",
                  4: "Transform Service", 5: "Send Command Service", 6: "Non-Device Service",
                  7: "Send Command Service", 8: "Non-Device Service"}
"""Which web service takes each Command Variant (@smartdcc/duis-parser, cv.ts)."""

INTERNAL_ERROR = "EMB90"
"""meterbench (not DUIS): the emulated DCC itself failed (a bug; its log has the traceback)."""
MAX_EXCHANGES = 1000
"""How many recent exchanges the service keeps for inspection."""
WRONG_URL = "E13"
"""DUIS: Failed Validation - request type not valid for the URL (codes.MEANINGS)."""
_REQUEST_ID = re.compile(rb"<(?:\w+:)?RequestID>\s*([^<]+?)\s*</(?:\w+:)?RequestID>")


def web_service_for(command_variant: int) -> str:
    """The path (``/api/v1/service?``) a request of ``command_variant`` is posted to."""
    service = _SERVICE_OF_CV.get(command_variant)
    if service is None:
        raise ValueError(f"no web service for Command Variant {command_variant}")
    return next(path for path, name in WEB_SERVICES.items() if name == service)


@dataclass(frozen=True)
class Exchange:
    """One request the DCC handled and what it answered (for tests and diagnosis)."""

    path: str | None
    request: ServiceRequest | None
    user: str | None
    response: ServiceResponse


def _best_effort_request_id(data: bytes) -> RequestId | None:
    """The RequestID of a request too broken to parse, if one can be read at all."""
    match = _REQUEST_ID.search(data[:4096])
    if not match:
        return None
    try:
        return RequestId.parse(match.group(1).decode("ascii", "replace"))
    except ValueError:
        return None


class DccService:
    """Authenticate, authorise and apply Service Requests to the SMI and the network."""

    def __init__(self, inventory: SmartMeteringInventory, users: UserRegistry,
                 network: DccNetwork, *, relaxed: bool = False,
                 before: Callable[[], None] | None = None,
                 on_join: Callable[[JoinOutcome], None] | None = None) -> None:
        self.inventory = inventory
        self.users = users
        self.network = network
        self.relaxed = relaxed
        self._before = before
        self.on_join = on_join
        self.exchanges: deque[Exchange] = deque(maxlen=MAX_EXCHANGES)
        self._lock = threading.Lock()

    # -- the pipeline -------------------------------------------------------------------------

    def handle(self, data: bytes, *, path: str | None = None, source: str = "request"
               ) -> ServiceResponse:
        """Answer one request (``path``: the web service it was posted to, if any)."""
        return self.handle_exchange(data, path=path, source=source).response

    def handle_exchange(self, data: bytes, *, path: str | None = None,
                        source: str = "request") -> Exchange:
        """Answer one request; the whole exchange (the parsed request, user and answer).

        Parsing, the signature check and authorisation run outside the service's lock (a big
        or slow request never holds other users up); only applying the request takes it.
        """
        request, user, checked = self._check(data, path, source)
        with self._lock:
            response = checked if isinstance(checked, ServiceResponse) else self._apply(
                request, user, checked)
            try:
                self.settle()
            except Exception:  # the answer stands; what failed after it is only logged
                log.exception("emulated DCC: settling after %s failed",
                              request.variant if request else "a request")
            exchange = Exchange(path, request, user.user_id if user else None, response)
            self.exchanges.append(exchange)
        code = response.response_code
        log.info("%s %s from %s: %s %s", path or "-", request.variant if request else "?",
                 user.duis_id if user else "?", code, response.message)
        return exchange

    def _check(self, data: bytes, path: str | None, source: str
               ) -> tuple[ServiceRequest | None, DccUser | None, UserRole | ServiceResponse]:
        """Parse, authenticate and authorise one request (no lock): its role, or the refusal."""
        try:
            request = parse_request(data, source=source)
        except DuisError as exc:
            return None, None, ServiceResponse.from_error(exc, _best_effort_request_id(data))
        except Exception as exc:  # a parser bug: still a malformed request to the user
            report_unexpected("DCC (DUIS parser)", exc)
            error = DuisError(f"request could not be parsed: {type(exc).__name__}: {exc}",
                              response_code=MALFORMED, source=source)
            return None, None, ServiceResponse.from_error(error, _best_effort_request_id(data))
        user = None
        try:
            user = self.authenticate(data, request, source)
            self._check_path(request, path)
            return request, user, self.authorise(user, request)
        except DuisError as exc:
            return request, user, ServiceResponse.from_error(exc, request.request_id,
                                                             request.variant)
        except Exception as exc:  # a bug in a check: answer rather than drop the connection
            return request, user, self._internal_error(request, exc)

    def _apply(self, request: ServiceRequest | None, user: DccUser | None, role: UserRole
               ) -> ServiceResponse:
        """Run an authorised request's handler in one inventory transaction; never raises."""
        assert request is not None and user is not None
        try:
            handler = HANDLERS.get(request.variant)
            if handler is None:
                raise DuisError(f"{request.variant} {request.spec.name} is not served by the "
                                "emulated DCC", response_code=UNKNOWN_VARIANT,
                                path="sr:ServiceReferenceVariant")
            if self._before is not None:
                self._before()
            self.settle()
            with self.inventory.transaction(user.user_id, str(request.request_id)) as tx:
                ctx = RequestContext(request, user, role, tx, self.network)
                return handler(ctx)
        except DuisError as exc:
            return ServiceResponse.from_error(exc, request.request_id, request.variant)
        except OperationError as exc:  # a device refused outside a handler's own checks
            error = DuisError(str(exc), response_code=NO_RESPONSE)
            return ServiceResponse.from_error(error, request.request_id, request.variant)
        except Exception as exc:  # a bug: answer rather than drop the connection
            return self._internal_error(request, exc)

    @staticmethod
    def _internal_error(request: ServiceRequest, exc: Exception) -> ServiceResponse:
        """EMB90 for a request the emulated DCC itself failed on (logged and counted)."""
        report_unexpected(f"DCC ({request.variant})", exc)
        error = DuisError(f"the emulated DCC failed: {type(exc).__name__}: {exc}",
                          response_code=INTERNAL_ERROR)
        return ServiceResponse.from_error(error, request.request_id, request.variant)

    def authenticate(self, data: bytes, request: ServiceRequest, source: str) -> DccUser:
        """The user who signed ``data`` (relaxed placeholders: the RequestID's originator)."""
        signer = verify(data, self.users.trusted_certificates(), relaxed=self.relaxed,
                        source=source)
        originator = request.request_id.originator
        if signer is None:
            user = self.users.by_user_id(originator)
            if user is None:
                raise DuisError(f"RequestID originator {request.request_id} is not a "
                                "registered DCC user", response_code=INVALID_USER,
                                path="sr:RequestID")
            return user
        user = self.users.by_certificate(signer)
        if user is None:  # verify only returns trusted certificates: a registry bug
            raise DuisError("signer certificate is not registered", response_code=INVALID_USER)
        if user.user_id != originator:
            raise DuisError(f"RequestID originator {originator} is not the signer's User ID "
                            f"{user.user_id}", response_code=INVALID_USER, path="sr:RequestID")
        return user

    @staticmethod
    def _check_path(request: ServiceRequest, path: str | None) -> None:
        """The web service posted to must be the one the Command Variant names (E13)."""
        if path is None:
            return
        expected = web_service_for(request.command_variant)
        if path != expected:
            raise DuisError(f"Command Variant {request.command_variant} goes to {expected} "
                            f"({WEB_SERVICES[expected]}), not {path}", response_code=WRONG_URL,
                            path="sr:CommandVariant")

    @staticmethod
    def authorise(user: DccUser, request: ServiceRequest) -> UserRole:
        """One of ``user``'s roles that may send ``request`` (DUIS E2 if none may)."""
        eligible = eligible_roles(request.variant)
        usable = sorted(user.roles & eligible)
        if usable:
            return usable[0]
        held = ", ".join(sorted(r.value for r in user.roles))
        allowed = ", ".join(sorted(r.value for r in eligible))
        raise DuisAuthorisationError(
            f"user {user.duis_id} ({held}) may not send {request.variant} "
            f"{request.spec.name}; eligible roles: {allowed}", response_code=ROLE_NOT_ELIGIBLE,
            path="sr:ServiceReferenceVariant", variant=request.variant, role=held)

    # -- what happens between requests -----------------------------------------------------------

    def settle(self) -> None:
        """Let whitelisted meters join, and commission installed hubs that are on the SM WAN."""
        self.network.settle(self._joined)
        for record in self.inventory.records().values():
            if record.device_type is not DeviceType.CHF or (
                    record.status is not SmiStatus.INSTALLED_NOT_COMMISSIONED):
                continue
            try:
                hub = self.network.hub(record.device_id)
            except DuisError:
                continue  # not on the SM WAN (yet)
            self._commission_hub(hub, record.device_id)

    def _joined(self, outcome: JoinOutcome) -> None:
        """The CHF reported a join (its 0x8F49 alert): Whitelisted → Installed Not Commissioned."""
        if self.on_join is not None:
            self.on_join(outcome)
        record = self.inventory.find(outcome.device_id)
        if record is None or record.status is not SmiStatus.WHITELISTED:
            return
        with self.inventory.transaction(f"CHF {outcome.hub_id}") as tx:
            tx.set_status(record.device_id, SmiStatus.INSTALLED_NOT_COMMISSIONED,
                          "HAN join reported by the CHF (alert 0x8F49)")
            tx.update(record.device_id, "HAN join reported by the CHF", chf_id=outcome.hub_id)

    def _commission_hub(self, hub: CommsHub, chf_id: str) -> None:
        """The DCC commissions a hub on the SM WAN: its own operation, then CHF and GPF."""
        try:
            if hub.status is not SmiStatus.COMMISSIONED:
                hub.commission_with_consumer_data(days=0)
        except OperationError as exc:
            log.info("DCC cannot commission hub %s yet: %s", chf_id, exc)
            return
        with self.inventory.transaction("DCC") as tx:
            record = tx.get(chf_id)
            for item in [record, *([tx.find(record.gpf_id)] if record.gpf_id else [])]:
                if item is not None and item.status is SmiStatus.INSTALLED_NOT_COMMISSIONED:
                    tx.set_status(item.device_id, SmiStatus.COMMISSIONED,
                                  "DCC commissions a CHF/GPF on the SM WAN")
