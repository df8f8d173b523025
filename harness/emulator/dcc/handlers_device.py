"""Device Service Requests: sent over the SM WAN to a hub and on over its HAN to the device.

8.11 Update HAN Device Log (the hub's whitelist: its ``whitelist`` / ``remove_device``), 8.1.1
Commission Device (the device's ``set_clock`` and ``commission_with_consumer_data``), 6.13 Read
Event or Security Log (``read_log``), 7.4 Read Supply Status (load switch / valve) and 11.2
Read Firmware Version.  Modelled rules (the domain page gives none): a device request needs
the device Installed Not Commissioned or Commissioned (E5 otherwise); 8.11 needs its CHF so
and the device added Pending or Whitelisted.  The emulated hub applies its own model's join
timeout, not the request's JoinTimePeriod (its whitelist takes none).
"""

from __future__ import annotations

import datetime

from harness.domain.types import DeviceType, SmiStatus
from harness.emulator.dcc.context import DEVICE_TYPE_MISMATCH, Handler, RequestContext
from harness.emulator.world.han import JoinResponseCode
from harness.emulator.world.logs import LogKind
from harness.emulator.world.models import CommsHub, Esme, Gsme, LoadSwitch, Valve
from harness.protocols.duis import DuisError, ServiceResponse
from harness.protocols.duis.vocabulary import LogToRead
from harness.protocols.installcode import InstallCode, InstallCodeError

__all__ = ["DEVICE_HANDLERS", "IN_SERVICE"]

_S = SmiStatus
IN_SERVICE = (_S.INSTALLED_NOT_COMMISSIONED, _S.COMMISSIONED)
"""Statuses a device must have to be sent a device request (modelled)."""
_METERS = (DeviceType.ESME, DeviceType.GSME)
_HAN_DEVICES = (*_METERS, DeviceType.PPMID, DeviceType.HCALCS, DeviceType.TYPE2)

_LOGS: dict[LogToRead, tuple[LogKind, tuple[DeviceType, ...]]] = {
    LogToRead.EVENT: (LogKind.EVENT, ()),
    LogToRead.SECURITY: (LogKind.SECURITY, ()),
    LogToRead.POWER_EVENT: (LogKind.POWER, ()),
    LogToRead.GSME_EVENT: (LogKind.EVENT, (DeviceType.GSME, DeviceType.GPF)),
    LogToRead.GSME_SECURITY: (LogKind.SECURITY, (DeviceType.GSME, DeviceType.GPF)),
}
"""DUIS LogToRead → the emulated device's log (ALCS event logs are not emulated)."""

_SUPPLY: dict[str, str] = {
    LoadSwitch.ENABLED: "Enabled", LoadSwitch.DISABLED: "Disabled", LoadSwitch.ARMED: "Armed",
    Valve.OPEN: "Enabled", Valve.CLOSED: "Disabled", Valve.ARMED: "Armed",
}
"""Load switch / valve state → supply status as meterbench reports it (the raw state too)."""


def _datetime(ctx: RequestContext, name: str, within: dict[str, object] | None = None
              ) -> datetime.datetime:
    """An xs:dateTime of the body, as an aware UTC datetime (MALFORMED if it is not one)."""
    text = ctx.text(name, within=within)
    assert text is not None
    try:
        value = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise ctx.malformed(f"not an xs:dateTime: {text!r}", name) from None
    return value if value.tzinfo else value.replace(tzinfo=datetime.UTC)


# -- 8.11 ---------------------------------------------------------------------------------------


def update_han_device_log(ctx: RequestContext) -> ServiceResponse:
    """8.11: add a device to the CHF's whitelist with its install code, or remove it."""
    hub_record = ctx.record(ctx.target, types=(DeviceType.CHF,), statuses=IN_SERVICE,
                            path="RequestID")
    device_id = ctx.body_device_id()
    request_type = ctx.text("RequestType")
    if request_type not in ("Add", "Remove"):
        raise ctx.malformed(f"RequestType must be Add or Remove, not {request_type!r}",
                            "RequestType")
    if request_type == "Remove":
        record = ctx.record(device_id)
        hub = ctx.network.hub(hub_record.device_id, path="RequestID")
        removed = ctx.device_call("remove from device log", hub.remove_device, device_id)
        ctx.network.forget_join(hub.eui64, device_id)
        if record.status is _S.WHITELISTED:
            ctx.tx.set_status(device_id, _S.PENDING, ctx.reason)
            ctx.tx.update(device_id, ctx.reason, chf_id=None)
        body = {"DeviceID": record.duis_id, "RequestType": "Remove",
                "Removed": "true" if removed else "false"}
        return ctx.ok("UpdateHANDeviceLogResponse", body, device_response=True)
    add = ctx.request.body.get("AddDeviceToCHFWhitelist")
    if not isinstance(add, dict):
        raise ctx.malformed("adding a device needs AddDeviceToCHFWhitelist",
                            "AddDeviceToCHFWhitelist")
    code_text = ctx.text("InstallCode", within=add)
    assert code_text is not None
    try:
        code = InstallCode.parse(code_text, has_crc=False)  # DUIS's value has no CRC
    except InstallCodeError as exc:
        raise ctx.malformed(str(exc), "AddDeviceToCHFWhitelist/InstallCode") from None
    record = ctx.record(device_id, types=_HAN_DEVICES,
                        statuses=(_S.PENDING, _S.WHITELISTED))
    hub = ctx.network.hub(hub_record.device_id, path="RequestID")
    result = ctx.device_call("update device log", hub.whitelist, device_id, code,
                             device_type=record.device_type)
    body = {"DeviceID": record.duis_id, "RequestType": "Add",
            "JoinResponseCode": str(int(result)), "JoinResponse": result.name}
    if result is JoinResponseCode.SUCCESS:
        ctx.tx.set_status(device_id, _S.WHITELISTED, ctx.reason)
        ctx.tx.update(device_id, ctx.reason, chf_id=hub_record.device_id, install_code=code,
                      mpxn=ctx.text("ImportMPxN", within=add, required=False) or record.mpxn,
                      secondary_mpxn=ctx.text("SecondaryImportMPAN", within=add,
                                              required=False) or record.secondary_mpxn)
        ctx.network.expect_join(hub, device_id)
    else:
        ctx.notes.append(f"the CHF refused the entry: {result.name}")
    return ctx.ok("UpdateHANDeviceLogResponse", body, device_response=True)


# -- 8.1.1 ----------------------------------------------------------------------------------------


def commission_device(ctx: RequestContext) -> ServiceResponse:
    """8.1.1: set the device's clock to CurrentDateTime and commission it (SMI Commissioned).

    Critical in DUIS (Command Variant 4, then a signed pre-command as CV 5); the emulated DCC
    carries it out on the CV 4 request itself (modelled: no pre-command round trip)."""
    record = ctx.record(ctx.target, types=_METERS, statuses=(_S.INSTALLED_NOT_COMMISSIONED,),
                        path="RequestID")
    when = _datetime(ctx, "CurrentDateTime")
    route = ctx.route(record)
    ctx.device_call("set clock", route.device.set_clock, when)
    ctx.device_call("commission", route.device.commission_with_consumer_data, days=0,
                    mpxn=record.mpxn)
    record = ctx.tx.set_status(record.device_id, _S.COMMISSIONED, ctx.reason)
    return ctx.ok("CommissionDeviceResponse",
                  {"DeviceID": record.duis_id, "DeviceStatus": str(record.status)},
                  device_response=True)


# -- reads ----------------------------------------------------------------------------------


def read_event_log(ctx: RequestContext) -> ServiceResponse:
    """6.13: the entries of one log within ReadLogPeriod, oldest first."""
    record = ctx.record(ctx.target, statuses=IN_SERVICE, path="RequestID")
    period = ctx.request.body.get("ReadLogPeriod")
    if not isinstance(period, dict):
        raise ctx.malformed("missing ReadLogPeriod", "ReadLogPeriod")
    start, end = _datetime(ctx, "StartDateTime", period), _datetime(ctx, "EndDateTime", period)
    which = ctx.text("LogToRead")
    try:
        kind, types = _LOGS[LogToRead(which)]
    except (ValueError, KeyError):
        raise DuisError(f"LogToRead {which!r} is not emulated (known: "
                        f"{', '.join(str(k) for k in _LOGS)})",
                        response_code=DEVICE_TYPE_MISMATCH, path="LogToRead") from None
    if types and record.device_type not in types:
        raise DuisError(f"LogToRead {which} does not apply to a {record.device_type.name}",
                        response_code=DEVICE_TYPE_MISMATCH, path="LogToRead")
    route = ctx.route(record)
    entries = [e for e in ctx.device_call("read log", route.device.read_log, kind)
               if start <= e.timestamp <= end]
    body = {"DeviceID": record.duis_id, "LogToRead": which,
            "LogEntry": [{"AlertCode": e.hex, "Description": e.name,
                          "DateTime": e.timestamp.isoformat(), "Detail": e.detail or None}
                         for e in entries]}
    return ctx.ok("EventOrSecurityLog", body, device_response=True)


def read_supply_status(ctx: RequestContext) -> ServiceResponse:
    """7.4: an ESME's load switch or a GSME's valve."""
    record = ctx.record(ctx.target, types=_METERS, statuses=IN_SERVICE, path="RequestID")
    route = ctx.route(record)
    device = route.device
    if isinstance(device, Esme):
        state = str(ctx.device_call("read supply status", device.supply_state))
    elif isinstance(device, Gsme):
        state = str(ctx.device_call("read supply status", device.valve_state))
    else:  # the SMI and the emulated device disagree on the type
        raise DuisError(f"{record.duis_id} has no supply control",
                        response_code=DEVICE_TYPE_MISMATCH, path="RequestID")
    return ctx.ok("SupplyStatus", {"DeviceID": record.duis_id, "SupplyStatus": _SUPPLY[state],
                                   "DeviceSupplyState": state}, device_response=True)


def read_firmware_version(ctx: RequestContext) -> ServiceResponse:
    """11.2: the firmware version the device reports (a GPF reports its hub's)."""
    record = ctx.record(ctx.target, statuses=IN_SERVICE, path="RequestID")
    route = ctx.route(record)
    identity = route.device.identity
    body = {"DeviceID": record.duis_id, "FirmwareVersion": identity.firmware_version,
            "DeviceManufacturer": identity.manufacturer, "DeviceModel": identity.model}
    if isinstance(route.device, CommsHub) and route.device_type is DeviceType.GPF:
        body["DeviceModel"] = f"{identity.model} (GPF)"
    return ctx.ok("FirmwareVersion", body, device_response=True)


DEVICE_HANDLERS: dict[str, Handler] = {
    "8.11": update_han_device_log,
    "8.1.1": commission_device,
    "6.13": read_event_log,
    "7.4": read_supply_status,
    "11.2": read_firmware_version,
}
"""Handlers by Service Reference Variant."""
