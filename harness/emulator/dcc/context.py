"""What a Service Request handler of the emulated DCC gets: the request, who sent it, the SMI.

Handlers check everything first, then act on devices, then stage inventory changes, so a
refused request leaves devices and inventory as they were.  A device operation that fails
(device off, in its boot loader) answers as DUIS's "no response received" (E21).

Payloads: DUIS carries a device's answer as a GBCS payload; the emulated DCC answers with the
values themselves in meterbench's readable elements (``EventOrSecurityLog``, ``SupplyStatus``,
...), since it has no GBCS encoder.  Only ``DSPInventory`` (8.2) is DUIS's own element name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar, overload

from harness.domain.eui64 import eui64_duis, normalise_eui64
from harness.domain.types import DeviceType
from harness.emulator.dcc.inventory import DeviceRecord, InventoryTransaction
from harness.emulator.dcc.network import NO_RESPONSE, DccNetwork, Route
from harness.emulator.dcc.users import DccUser
from harness.errors import OperationError
from harness.protocols.duis import DuisError, ServiceRequest, ServiceResponse, UserRole
from harness.protocols.duis.codes import INVALID_DEVICE_STATUS, MALFORMED, SUCCESS

__all__ = ["DEVICE_TYPE_MISMATCH", "Handler", "RequestContext", "duis_eui"]

R = TypeVar("R")

DEVICE_TYPE_MISMATCH = "E11"
"""DUIS: Failed Validation - Service Reference not compatible with the Device type."""


@dataclass
class RequestContext:
    """One request being handled: sender, role, staged inventory, and the network."""

    request: ServiceRequest
    user: DccUser
    role: UserRole
    tx: InventoryTransaction
    network: DccNetwork
    notes: list[str] = field(default_factory=list)

    # -- reading the request ---------------------------------------------------------------

    @overload
    def text(self, name: str, *, required: Literal[True] = True,
             within: dict[str, Any] | None = None) -> str: ...

    @overload
    def text(self, name: str, *, required: bool,
             within: dict[str, Any] | None = None) -> str | None: ...

    def text(self, name: str, *, required: bool = True, within: dict[str, Any] | None = None
             ) -> str | None:
        """A text field of the body (or of ``within``); MALFORMED naming it when missing."""
        source = self.request.body if within is None else within
        value = source.get(name)
        if value is None or value == "":
            if required:
                raise self.malformed(f"missing {name}", name)
            return None
        if not isinstance(value, str):
            raise self.malformed(f"{name} must be a single text value", name)
        return value

    def body_device_id(self, name: str = "DeviceID") -> str:
        """An EUI-64 field of the body, normalised (MALFORMED if absent or not an EUI-64)."""
        value = self.text(name)
        assert value is not None
        try:
            return normalise_eui64(value)
        except ValueError as exc:
            raise self.malformed(str(exc), name) from None

    @property
    def target(self) -> str:
        """The RequestID's target EUI-64 (the device of a device request)."""
        return self.request.request_id.target

    def malformed(self, message: str, name: str) -> DuisError:
        """A DuisError (EMB01) naming the body element."""
        return DuisError(message, response_code=MALFORMED,
                         path=f"sr:Body/{self.request.body_tag}/{name}")

    # -- inventory rules -----------------------------------------------------------------

    def record(self, device_id: str, *, types: tuple[DeviceType, ...] = (),
               statuses: tuple[Any, ...] = (), path: str = "DeviceID") -> DeviceRecord:
        """The SMI record, checked to be of one of ``types`` and ``statuses`` (if given)."""
        record = self.tx.get(device_id, path=path)
        if types and record.device_type not in types:
            names = ", ".join(t.name for t in types)
            raise DuisError(
                f"{self.request.variant} is for {names}; {record.duis_id} is a "
                f"{record.device_type.name}", response_code=DEVICE_TYPE_MISMATCH, path=path,
                device=record.device_id)
        if statuses and record.status not in statuses:
            names = ", ".join(str(s) for s in statuses)
            raise DuisError(
                f"{self.request.variant} needs the device {names}; {record.duis_id} is "
                f"{record.status}", response_code=INVALID_DEVICE_STATUS, path=path,
                device=record.device_id)
        return record

    def route(self, record: DeviceRecord) -> Route:
        """Reach the record's device through its hub (E20/E21 when that cannot be done)."""
        return self.network.route(record.device_id, record.chf_id)

    def device_call(self, what: str, fn: Callable[..., R], *args: Any, **kwargs: Any) -> R:
        """Run a device operation; a device that cannot do it answers as DUIS E21."""
        try:
            return fn(*args, **kwargs)
        except OperationError as exc:
            raise DuisError(f"{what}: {exc}", response_code=NO_RESPONSE) from None

    @property
    def reason(self) -> str:
        """How this request is named in the inventory's change log."""
        return f"{self.request.variant} {self.request.spec.name}"

    # -- answering ---------------------------------------------------------------------------

    def ok(self, body_tag: str | None = None, body: dict[str, Any] | None = None, *,
           device_response: bool = False) -> ServiceResponse:
        """A success (I0); a device's response carries the ResponseID (target:originator)."""
        request_id = self.request.request_id
        return ServiceResponse(
            request_id=request_id, variant=self.request.variant, response_code=SUCCESS,
            response_id=str(request_id.response_id()) if device_response else None,
            body_tag=body_tag, body=body or {}, message="; ".join(self.notes),
            service_reference=self.request.service_reference,
        )


Handler = Callable[[RequestContext], ServiceResponse]
"""A handler of one Service Reference Variant."""


def duis_eui(value: str | None) -> str | None:
    """An EUI-64 in DUIS form, or None."""
    return eui64_duis(value) if value else None
