"""Non-device Service Requests the emulated DCC answers from its inventory (Command Variant 8).

12.2 Device Pre-notification, 8.2 Read Inventory, 8.4 Update Inventory, 8.3 Decommission
Device and 8.14.1-8.14.4 Communications Hub status updates.  Status changes follow
``transitions.TRANSITIONS`` (modelled, see there); a hub's GPF follows its CHF (modelled:
one physical hub).  The CH returns vocabulary (8.14.3/8.14.4) is checked against
GB-SMART-METERING.md's list as DUIS spells it (``harness.protocols.duis.vocabulary``).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal, TypedDict, overload

from harness.domain.types import DeviceType, SmiStatus
from harness.emulator.dcc.context import Handler, RequestContext, duis_eui
from harness.emulator.dcc.inventory import DeviceRecord
from harness.emulator.world.models.comms_hub import CommsHub
from harness.protocols.duis import ServiceResponse
from harness.protocols.duis.codes import DEVICE_NOT_FOUND, INVALID_DEVICE_STATUS
from harness.protocols.duis.errors import DuisError
from harness.protocols.duis.vocabulary import (
    CH_SETTABLE_STATUSES,
    NON_CH_SETTABLE_STATUSES,
    CHFConnectionMethod,
    CHFFaultReason,
    CHFFaultReturnType,
    CHFLocation,
    CHFNoFaultReturnType,
    DuisDeviceType,
)

__all__ = ["INVENTORY_HANDLERS", "inventory_entry"]

_S = SmiStatus
_HUB = (DeviceType.CHF,)

_DUIS_TYPES: dict[DuisDeviceType, DeviceType] = {
    DuisDeviceType.ESME: DeviceType.ESME, DuisDeviceType.GSME: DeviceType.GSME,
    DuisDeviceType.GPF: DeviceType.GPF, DuisDeviceType.CHF: DeviceType.CHF,
    DuisDeviceType.HCALCS: DeviceType.HCALCS, DuisDeviceType.PPMID: DeviceType.PPMID,
    DuisDeviceType.IHD: DeviceType.TYPE2, DuisDeviceType.CAD: DeviceType.TYPE2,
}


@overload
def _vocabulary(ctx: RequestContext, name: str, vocabulary: type[StrEnum],
                within: dict[str, Any] | None = None, *, required: Literal[True] = True) -> str:
    ...


@overload
def _vocabulary(ctx: RequestContext, name: str, vocabulary: type[StrEnum],
                within: dict[str, Any] | None = None, *, required: bool) -> str | None: ...


def _vocabulary(ctx: RequestContext, name: str, vocabulary: type[StrEnum],
                within: dict[str, Any] | None = None, *, required: bool = True) -> str | None:
    """A body value that must be one of ``vocabulary``'s DUIS strings (MALFORMED otherwise)."""
    value = ctx.text(name, required=required, within=within)
    if value is None:
        return None
    try:
        return vocabulary(value).value
    except ValueError:
        allowed = "; ".join(repr(m.value) for m in vocabulary)
        raise ctx.malformed(f"{value!r} is not one of {allowed}", name) from None


def inventory_entry(record: DeviceRecord) -> dict[str, Any]:
    """One ``Device`` of a ``DSPInventory`` answer."""
    return {
        "DeviceID": record.duis_id,
        "DeviceType": record.device_type.name,
        "DeviceStatus": str(record.status),
        "DeviceManufacturer": record.manufacturer,
        "DeviceModel": record.model,
        "DeviceFirmwareVersion": record.firmware_version,
        "SMETSCHTSVersion": record.smets_chts_version,
        "ImportMPxN": record.mpxn,
        "SecondaryImportMPAN": record.secondary_mpxn,
        "CHFID": duis_eui(record.chf_id),
        "GPFID": duis_eui(record.gpf_id),
    }


def _status_body(*records: DeviceRecord) -> dict[str, Any]:
    """meterbench's ``DeviceStatusUpdate`` payload: each changed device and its new status."""
    devices = [{"DeviceID": r.duis_id, "DeviceStatus": str(r.status)} for r in records]
    return {"Device": devices[0] if len(devices) == 1 else devices}


def _with_gpf(ctx: RequestContext, record: DeviceRecord) -> list[DeviceRecord]:
    """The record, and its GPF's when it is a CHF with one in the SMI."""
    records = [record]
    if record.device_type is DeviceType.CHF and record.gpf_id:
        gpf = ctx.tx.find(record.gpf_id)
        if gpf is not None:
            records.append(gpf)
    return records


def _set_status(ctx: RequestContext, records: list[DeviceRecord], target: SmiStatus
                ) -> list[DeviceRecord]:
    """Move every record to ``target`` (checked one by one; all or nothing with the tx)."""
    return [ctx.tx.set_status(r.device_id, target, ctx.reason) for r in records]


# -- 12.2 -------------------------------------------------------------------------------------


class _Details(TypedDict):
    """The optional descriptive fields a pre-notification may carry (DeviceRecord's names)."""

    manufacturer: str | None
    model: str | None
    firmware_version: str | None
    smets_chts_version: str | None
    variant: str | None


def pre_notification(ctx: RequestContext) -> ServiceResponse:
    """12.2: enter a device as Pending; a Pending one is updated; a decommissioned or
    withdrawn one comes back as Pending (re-use, modelled); any other status is E5."""
    device_id = ctx.body_device_id()
    duis_type = DuisDeviceType(_vocabulary(ctx, "DeviceType", DuisDeviceType))
    device_type = _DUIS_TYPES[duis_type]
    details: _Details = {
        "manufacturer": ctx.text("DeviceManufacturer", required=False),
        "model": ctx.text("DeviceModel", required=False),
        "firmware_version": ctx.text("FirmwareVersion", required=False),
        "smets_chts_version": ctx.text("SMETSCHTSVersion", required=False),
        "variant": ctx.text("ESMEVariant", required=False),
    }
    gpf_id = ctx.body_device_id("AssociatedGPFDeviceID") if ctx.text(
        "AssociatedGPFDeviceID", required=False) else None
    status = _S.NOT_APPLICABLE if device_type is DeviceType.TYPE2 else _S.PENDING
    existing = ctx.tx.find(device_id)
    if existing is None:
        record = ctx.tx.add(DeviceRecord(device_id, device_type, status, gpf_id=gpf_id,
                                         origin="12.2 pre-notification", **details),
                            ctx.reason)
    else:
        if existing.device_type is not device_type:
            raise DuisError(f"{existing.duis_id} is already in the inventory as a "
                            f"{existing.device_type.name}, not a {device_type.name}",
                            response_code=INVALID_DEVICE_STATUS, path="DeviceType")
        if existing.status not in (_S.PENDING, _S.DECOMMISSIONED, _S.WITHDRAWN):
            raise DuisError(f"{existing.duis_id} is already in the inventory as "
                            f"{existing.status}: only a Pending, Decommissioned or Withdrawn "
                            "device may be pre-notified again",
                            response_code=INVALID_DEVICE_STATUS, path="DeviceID")
        ctx.tx.set_status(device_id, _S.PENDING, ctx.reason)
        record = ctx.tx.update(device_id, ctx.reason, gpf_id=gpf_id or existing.gpf_id,
                               **{k: v for k, v in details.items() if v is not None})
    records = [record]
    if gpf_id is not None and ctx.tx.find(gpf_id) is None:
        records.append(ctx.tx.add(DeviceRecord(gpf_id, DeviceType.GPF, _S.PENDING,
                                               chf_id=device_id, origin="12.2 pre-notification"),
                                  ctx.reason))
    return ctx.ok("DeviceStatusUpdate", _status_body(*records))


# -- 8.2 / 8.4 / 8.3 ----------------------------------------------------------------------------


def read_inventory(ctx: RequestContext) -> ServiceResponse:
    """8.2: the device (a CHF with the devices of its HAN), or every device with the MPxN."""
    if ctx.text("DeviceID", required=False) is not None:
        record = ctx.record(ctx.body_device_id())
        found = [record]
        if record.device_type is DeviceType.CHF:
            found += sorted(ctx.tx.hub_devices(record.device_id), key=lambda r: r.device_id)
    else:
        mpxn = ctx.text("MPxN", required=False)
        if mpxn is None:  # UPRN: the emulated SMI records no property references
            found = []
        else:
            found = [r for r in ctx.tx.records() if mpxn in (r.mpxn, r.secondary_mpxn)]
        if not found:
            raise DuisError("no device in the inventory matches", response_code=DEVICE_NOT_FOUND,
                            path=f"sr:Body/{ctx.request.body_tag}")
    entries = [inventory_entry(r) for r in found]
    return ctx.ok("DSPInventory", {"Device": entries[0] if len(entries) == 1 else entries})


def update_inventory(ctx: RequestContext) -> ServiceResponse:
    """8.4: a status (the sets DUIS allows a CH and other devices), an MPxN, or a deletion
    (modelled: only of a device never installed, i.e. Pending)."""
    record = ctx.record(ctx.body_device_id())
    hub_status = ctx.text("UpdateDeviceStatusCH", required=False)
    other_status = ctx.text("UpdateDeviceStatusExceptCH", required=False)
    mpxn_block = ctx.request.body.get("UpdateMPxN")
    if hub_status is not None or other_status is not None:
        is_hub = hub_status is not None
        value = hub_status if is_hub else other_status
        allowed = CH_SETTABLE_STATUSES if is_hub else NON_CH_SETTABLE_STATUSES
        name = "UpdateDeviceStatusCH" if is_hub else "UpdateDeviceStatusExceptCH"
        if value not in allowed:
            raise ctx.malformed(f"{value!r} is not one of {', '.join(sorted(allowed))}", name)
        if is_hub != (record.device_type is DeviceType.CHF):
            raise ctx.malformed(f"{name} does not apply to a {record.device_type.name}", name)
        changed = _set_status(ctx, _with_gpf(ctx, record), SmiStatus(value))
        return ctx.ok("DeviceStatusUpdate", _status_body(*changed))
    if isinstance(mpxn_block, dict):
        mpxn = ctx.text("ImportMPxN", within=mpxn_block)
        return ctx.ok("DeviceStatusUpdate",
                      _status_body(ctx.tx.update(record.device_id, ctx.reason, mpxn=mpxn)))
    if "DeleteDevice" in ctx.request.body:
        if record.status is not _S.PENDING:
            raise DuisError(f"{record.duis_id} is {record.status}: only a Pending device may "
                            "be deleted from the inventory", response_code=INVALID_DEVICE_STATUS,
                            path="DeleteDevice")
        ctx.tx.delete(record.device_id, ctx.reason)
        return ctx.ok()
    raise ctx.malformed("give a status, an MPxN or DeleteDevice", "UpdateInventory")


def decommission(ctx: RequestContext) -> ServiceResponse:
    """8.3: Installed Not Commissioned or Commissioned → Decommissioned (a CHF with its GPF).

    DCC-only: nothing is sent to the device (it stays in its hub's HAN until removed by 8.11)."""
    record = ctx.record(ctx.body_device_id(),
                        statuses=(_S.INSTALLED_NOT_COMMISSIONED, _S.COMMISSIONED))
    changed = _set_status(ctx, _with_gpf(ctx, record), _S.DECOMMISSIONED)
    return ctx.ok("DeviceStatusUpdate", _status_body(*changed))


# -- 8.14.x -----------------------------------------------------------------------------------


def ch_install(ctx: RequestContext) -> ServiceResponse:
    """8.14.1 / 8.14.2: the hub is installed: CHF and GPF Installed Not Commissioned.

    The emulated hub records it too (its ``report_install_success``) when it is running;
    the DCC then commissions a hub it reaches over the SM WAN (``DccService.settle``)."""
    record = ctx.record(ctx.body_device_id(), types=_HUB,
                        statuses=(_S.PENDING, _S.INSTALLED_NOT_COMMISSIONED))
    _vocabulary(ctx, "CHFLocation", CHFLocation)
    mpxn = ctx.text("MPxN")
    changed = _set_status(ctx, _with_gpf(ctx, record), _S.INSTALLED_NOT_COMMISSIONED)
    ctx.tx.update(record.device_id, ctx.reason, mpxn=mpxn)
    located = ctx.network.find(record.device_id)
    if located is not None and isinstance(located.device, CommsHub) and located.device.ready:
        ctx.device_call("report install success", located.device.report_install_success)
    return ctx.ok("DeviceStatusUpdate", _status_body(*changed))


def ch_return(ctx: RequestContext) -> ServiceResponse:
    """8.14.3 / 8.14.4: the hub goes back to its provider: CHF and GPF Withdrawn (modelled),
    the return's type, reason and connection method kept on the record."""
    record = ctx.record(ctx.body_device_id(), types=_HUB)
    if ctx.request.variant == "8.14.3":
        details = {
            "CHFFaultReturnType": _vocabulary(ctx, "CHFFaultReturnType", CHFFaultReturnType),
            "CHFConnectionMethod": _vocabulary(ctx, "CHFConnectionMethod", CHFConnectionMethod),
            "CHFFaultReason": _vocabulary(ctx, "CHFFaultReason", CHFFaultReason),
            "OtherDeviceID": duis_eui(ctx.body_device_id("OtherDeviceID")),
        }
    else:
        details = {"CHFNoFaultReturnType": _vocabulary(ctx, "CHFNoFaultReturnType",
                                                       CHFNoFaultReturnType)}
    changed = _set_status(ctx, _with_gpf(ctx, record), _S.WITHDRAWN)
    returned = tuple((k, v) for k, v in details.items() if v is not None)
    ctx.tx.update(record.device_id, ctx.reason, ch_return=(("variant", ctx.request.variant),
                                                           *returned))
    return ctx.ok("DeviceStatusUpdate", _status_body(*changed))


INVENTORY_HANDLERS: dict[str, Handler] = {
    "12.2": pre_notification,
    "8.2": read_inventory,
    "8.4": update_inventory,
    "8.3": decommission,
    "8.14.1": ch_install,
    "8.14.2": ch_install,
    "8.14.3": ch_return,
    "8.14.4": ch_return,
}
"""Handlers by Service Reference Variant."""
