"""PROPOSED triage and reset Service Requests (MBP.1, MBP.2): meterbench's proposal, NOT DUIS.

SECMP0013's original solution (GB-SMART-METERING.md) would let a Supplier or RSA triage and
reset a SMETS2 device through the DCC; DUIS has no such requests, so what the emulated DCC
does for them is meterbench's proposal:

- MBP.1 triage reports, without changing anything, what rules HAN and WAN issues in or out
  (the hub's modem and signal, the device's HAN join), the device's logs and its firmware.
  A device that cannot be reached is reported as such, not refused: that is a finding.
- MBP.2 reset does the domain page's minimum (SMKI anchors back to original, ready to re-join
  the HAN with its install code, consumer data unavailable) through the device's own
  ``triage_reset``, takes the device out of its hub's device log so it can re-join, and puts
  its SMI record back to the device's original status.  It refuses a device still in service
  (Installed Not Commissioned or Commissioned): decommission it first (8.3).
"""

from __future__ import annotations

from typing import Any

from harness.domain.eui64 import eui64_duis
from harness.domain.types import DeviceType, SmiStatus
from harness.emulator.dcc.context import Handler, RequestContext
from harness.emulator.dcc.handlers_device import IN_SERVICE
from harness.emulator.world.logs import LogKind
from harness.emulator.world.models import CommsHub
from harness.protocols.duis import DuisError, ServiceResponse
from harness.protocols.duis.codes import INVALID_DEVICE_STATUS
from harness.protocols.duis.proposals import TriageCheck
from harness.protocols.gbcs_alerts import GbcsAlert, alert_info

__all__ = ["PROPOSED_HANDLERS"]

_S = SmiStatus
PROPOSAL_NOTE = "PROPOSAL (not DUIS): meterbench's proposed SECMP0013 request"
_FIRMWARE_FAILURES = frozenset({GbcsAlert.FIRMWARE_VERIFICATION_FAILED_AT_POWER_ON,
                                GbcsAlert.FIRMWARE_VERIFICATION_FAILED,
                                GbcsAlert.METROLOGY_FIRMWARE_VERIFICATION_FAILURE})


def _checks(ctx: RequestContext) -> list[TriageCheck]:
    """The triage checks the body asks for (MALFORMED for an unknown one)."""
    value = ctx.request.body.get("Check", [])
    names = value if isinstance(value, list) else [value]
    try:
        return [TriageCheck(name) for name in names]
    except ValueError:
        allowed = ", ".join(c.value for c in TriageCheck)
        raise ctx.malformed(f"unknown check in {names!r}; known: {allowed}", "Check") from None


def _log_summary(entries: tuple[Any, ...]) -> dict[str, Any]:
    """How many entries a log holds, by triage category."""
    categories: dict[str, int] = {}
    for entry in entries:
        name = alert_info(entry.code).category.value
        categories[name] = categories.get(name, 0) + 1
    return {"Entries": str(len(entries)),
            "Category": [{"Name": k, "Count": str(v)} for k, v in sorted(categories.items())]}


def triage_device(ctx: RequestContext) -> ServiceResponse:
    """PROPOSED MBP.1: a read-only report of the checks asked for."""
    record = ctx.record(ctx.body_device_id())
    located = ctx.network.find(record.device_id)
    report: dict[str, Any] = {"DeviceID": record.duis_id, "SMIStatus": str(record.status),
                              "Proposal": PROPOSAL_NOTE}
    hub_id = record.device_id if record.device_type is DeviceType.CHF else record.chf_id
    hub_item = ctx.network.find(hub_id) if hub_id else None
    hub = hub_item.device if hub_item and isinstance(hub_item.device, CommsHub) else None
    device = located.device if located else None
    for check in _checks(ctx):
        if check is TriageCheck.WAN:
            if hub is None:
                report["WAN"] = {"Reachable": "false", "Detail": "no hub known for the device"}
            else:
                wan = hub.wan_status()
                report["WAN"] = {"Reachable": "true" if wan.connected else "false",
                                 "HubID": eui64_duis(hub.eui64), "Modem": wan.modem,
                                 "RSSI": None if wan.rssi_dbm is None else f"{wan.rssi_dbm:.1f}"}
        elif check is TriageCheck.HAN:
            if device is None or device is hub:
                report["HAN"] = {"Joined": "n/a" if device else "unknown"}
            else:
                han = device.han_status()
                report["HAN"] = {
                    "Joined": "true" if han.joined else "false",
                    "Coordinator": eui64_duis(han.coordinator) if han.coordinator else None,
                    "ToItsHub": "true" if hub is not None and han.coordinator == hub.eui64
                    else "false",
                    "AwaitingInstallCodeJoin": "true" if han.awaiting_install_code_join
                    else "false"}
        elif check in (TriageCheck.EVENT_LOG, TriageCheck.SECURITY_LOG):
            kind = LogKind.EVENT if check is TriageCheck.EVENT_LOG else LogKind.SECURITY
            if device is None or not device.ready:
                report[check.value] = {"Entries": "unreadable: device not running"}
            else:
                report[check.value] = _log_summary(device.read_log(kind))
        elif check is TriageCheck.FIRMWARE:
            if device is None:
                report["Firmware"] = {"Version": "unknown: no device answers"}
            else:
                failed = any(c in _FIRMWARE_FAILURES for c in device.log_codes())
                report["Firmware"] = {"Version": device.identity.firmware_version,
                                      "VerificationFailureLogged": "true" if failed else "false"}
    ctx.notes.append(PROPOSAL_NOTE)
    return ctx.ok("ProposedTriageReport", report, device_response=True)


def reset_device(ctx: RequestContext) -> ServiceResponse:
    """PROPOSED MBP.2: reset the device to its original state (see module doc)."""
    record = ctx.record(ctx.body_device_id())
    if record.status in IN_SERVICE:
        raise DuisError(f"{record.duis_id} is {record.status}: a device in service is not "
                        "reset; decommission it first (8.3) - PROPOSAL rule",
                        response_code=INVALID_DEVICE_STATUS, path="DeviceID")
    route = ctx.route(record)
    device = route.device
    if route.device_type is DeviceType.GPF:
        raise DuisError("reset the GPF's Communications Hub (its CHF), not the GPF",
                        response_code=INVALID_DEVICE_STATUS, path="DeviceID")
    report = ctx.device_call("reset", device.triage_reset)
    if device is not route.hub:
        ctx.device_call("remove from device log", route.hub.remove_device, record.device_id)
        ctx.network.forget_join(route.hub.eui64, record.device_id)
    original = device.model.original_status
    changed = []
    for item in [record, *([ctx.tx.get(record.gpf_id)] if record.gpf_id else [])]:
        ctx.tx.set_status(item.device_id, original, ctx.reason)
        keep_hub = item.device_type is DeviceType.GPF
        changed.append(ctx.tx.update(item.device_id, ctx.reason, mpxn=None, secondary_mpxn=None,
                                     install_code=None,
                                     chf_id=item.chf_id if keep_hub else None))
    ctx.notes.append(PROPOSAL_NOTE)
    body = {
        "DeviceID": record.duis_id,
        "ResetSecurityCredentials": ",".join(r.name for r in report.anchors_restored) or "none",
        "RejoinHANUsingInstallCode": "true",
        "HANLeft": "true" if report.han_left else "false",
        "MakeConsumerDataUnavailable": "true",
        "ConsumerDataCleared": "true" if report.consumer_data_cleared else "false",
        "Device": [{"DeviceID": r.duis_id, "DeviceStatus": str(r.status)} for r in changed],
        "Proposal": PROPOSAL_NOTE,
    }
    return ctx.ok("ProposedResetReport", body, device_response=True)


PROPOSED_HANDLERS: dict[str, Handler] = {"MBP.1": triage_device, "MBP.2": reset_device}
"""Handlers of meterbench's PROPOSED requests (not DUIS)."""
