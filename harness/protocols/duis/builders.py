"""Builders for the DUIS Service Requests meterbench sends, shaped like DCC's own examples.

Each returns a ServiceRequest whose body holds the elements, in order, of DCC's DUIS Schema
V5.4 type for that request and of the reference requests in SmartDCCInnovation/duis-templates
(12.2, 8.2, 8.3, 8.4, 8.11, 6.13, 8.14.1-8.14.4, 11.2; tests compare them element by
element).  Optional elements are omitted when not given.  The caller chooses the RequestID:
for a device request (CV 1-5) its target is the device addressed (for 8.11 the CHF whose
whitelist changes, as in DCC's CCS01 example); for a DCC-only request (CV 8) DCC's examples
use the DCC's EUI-64 ``DCC_EUI64``.  Bad arguments raise DuisError (EMB01) naming the field.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from harness.domain.eui64 import eui64_duis

from .codes import MALFORMED
from .errors import DuisError
from .ids import RequestId
from .messages import ServiceRequest
from .variants import variant_spec
from .vocabulary import (
    CH_SETTABLE_STATUSES,
    NON_CH_SETTABLE_STATUSES,
    CHFConnectionMethod,
    CHFFaultReason,
    CHFFaultReturnType,
    CHFInstallType,
    CHFLocation,
    CHFNoFaultReturnType,
    DuisDeviceType,
    LogToRead,
    PremiseType,
    checked,
)

__all__ = [
    "DCC_EUI64",
    "ESME_VARIANTS",
    "ch_fault_return",
    "ch_install_no_sm_wan",
    "ch_install_success",
    "ch_no_fault_return",
    "ch_status_update",
    "commission_device",
    "decommission_device",
    "format_datetime",
    "pre_notification",
    "read_event_log",
    "read_firmware_version",
    "read_inventory",
    "read_supply_status",
    "update_han_device_log",
    "update_inventory",
]

DCC_EUI64 = "90B3D51F30000002"
"""The DCC's EUI-64 in DCC's test PKI: the RequestID target of every CV 8 reference request
(duis-templates) and the DSP signing key of DCC Boxed (dccboxed-signing-tool resources)."""

ESME_VARIANTS = frozenset({
    "A", "B", "C", "AD", "BD", "CD", "ADE", "BDE", "CDE", "ADF", "BDF", "CDF", "ADEF", "BDEF",
    "CDEF", "ADG", "ADEG", "AF", "BF", "CF", "AEF", "BEF", "CEF", "AG", "AEG",
})
"""DUIS ``ESMEVariant`` enumeration (DUIS Schema V5.4)."""

_HEX = re.compile(r"^[0-9A-Fa-f]*$")


class _Fields:
    """Collects a builder's body in order and turns bad values into located DuisErrors."""

    def __init__(self, builder: str) -> None:
        self.builder = builder
        self.body: dict[str, Any] = {}

    def fail(self, name: str, message: str) -> DuisError:
        """A DuisError naming the builder and field."""
        return DuisError(message, response_code=MALFORMED, source=self.builder, path=name)

    def put(self, name: str, value: Any, convert: Callable[[Any], Any] = str) -> None:
        """Add ``name`` (skipped when ``value`` is None), converting it; errors name the field."""
        if value is None:
            return
        try:
            self.body[name] = convert(value)
        except ValueError as exc:
            raise self.fail(name, str(exc)) from None

    def eui(self, name: str, value: str | None) -> None:
        """An EUI-64 in DUIS's dashed form."""
        self.put(name, value, eui64_duis)

    def text(self, name: str, value: str | None, low: int, high: int) -> None:
        """A string of ``low``..``high`` characters (DUIS Schema length facets)."""

        def convert(text: str) -> str:
            if not isinstance(text, str) or not low <= len(text) <= high:
                raise ValueError(f"must be a string of {low}..{high} characters, got {text!r}")
            return text

        self.put(name, value, convert)


def _request(variant: str, request_id: RequestId, body_tag: str, body: dict[str, Any],
             command_variant: int | None = None, schema_version: str = "5.4"
             ) -> ServiceRequest:
    """A ServiceRequest for ``variant`` with its Service Reference and default CV."""
    spec = variant_spec(variant)
    cv = command_variant if command_variant is not None else min(spec.command_variants)
    return ServiceRequest(
        request_id=request_id,
        command_variant=cv,
        service_reference=spec.service_reference,
        variant=variant,
        body_tag=body_tag,
        body=body,
        schema_version=schema_version,
        proposal=spec.proposal,
    )


def format_datetime(value: dt.datetime | str) -> str:
    """An xs:dateTime in UTC with centiseconds, as DCC's 6.13 example writes it.

    ``2014-12-31T00:00:00.00Z``; a string is checked with ``datetime.fromisoformat`` and kept.
    """
    if isinstance(value, str):
        dt.datetime.fromisoformat(value)  # raises ValueError with the offending text
        return value
    if value.tzinfo is None:
        raise ValueError(f"datetime {value.isoformat()} needs a time zone (DUIS times are UTC)")
    utc = value.astimezone(dt.UTC)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 10_000:02d}Z"


def _bool(value: bool) -> str:
    """An xs:boolean as DCC's examples write it."""
    if not isinstance(value, bool):
        raise ValueError(f"must be True or False, got {value!r}")
    return "true" if value else "false"


def _mpan(value: str) -> str:
    """A 13-character MPAN (DUIS ``MPAN``)."""
    if not isinstance(value, str) or len(value) != 13:
        raise ValueError(f"an MPAN has 13 characters, got {value!r}")
    return value


def _mpxn(value: str) -> str:
    """An import MPxN of 1..13 characters (DUIS ``ImportMPxN`` / ``MPxN``)."""
    if not isinstance(value, str) or not 1 <= len(value) <= 13:
        raise ValueError(f"an MPxN has 1..13 characters, got {value!r}")
    return value


# --- 12.2 / 8.x inventory --------------------------------------------------------------


def pre_notification(
    request_id: RequestId,
    device_id: str,
    *,
    manufacturer: str,
    model: str,
    device_type: DuisDeviceType | str,
    smets_chts_version: str | None = None,
    firmware_version: str | None = None,
    esme_variant: str | None = None,
    associated_gpf_id: str | None = None,
    schema_version: str = "5.4",
) -> ServiceRequest:
    """12.2 Device Pre-notification: tell the DCC a device is coming (``DevicePrenotification``)."""
    f = _Fields("pre_notification")
    f.eui("DeviceID", device_id)
    f.text("DeviceManufacturer", manufacturer, 0, 30)
    f.text("DeviceModel", model, 0, 30)
    f.put("DeviceType", device_type, lambda v: checked(DuisDeviceType, v, "DeviceType"))
    f.text("SMETSCHTSVersion", smets_chts_version, 1, 20)
    f.text("FirmwareVersion", firmware_version, 1, 8)
    if esme_variant is not None and esme_variant not in ESME_VARIANTS:
        raise f.fail("ESMEVariant", f"{esme_variant!r} is not a DUIS ESMEVariant")
    f.put("ESMEVariant", esme_variant)
    f.eui("AssociatedGPFDeviceID", associated_gpf_id)
    return _request("12.2", request_id, "DevicePrenotification", f.body,
                    schema_version=schema_version)


def read_inventory(
    request_id: RequestId, device_id: str | None = None, *, mpxn: str | None = None,
    uprn: int | None = None,
) -> ServiceRequest:
    """8.2 Read Inventory by exactly one of device, MPxN or UPRN (``ReadInventory``)."""
    f = _Fields("read_inventory")
    if sum(x is not None for x in (device_id, mpxn, uprn)) != 1:
        raise f.fail("ReadInventory", "give exactly one of device_id, mpxn, uprn")
    f.put("UPRN", uprn, lambda v: str(int(v)))
    f.eui("DeviceID", device_id)
    f.put("MPxN", mpxn, _mpxn)
    return _request("8.2", request_id, "ReadInventory", f.body)


def update_inventory(
    request_id: RequestId,
    device_id: str,
    *,
    status: str | None = None,
    ch: bool = False,
    delete: bool = False,
    import_mpxn: str | None = None,
) -> ServiceRequest:
    """8.4 Update Inventory: set a status, delete the device, or set its import MPxN.

    Exactly one action.  ``status`` is one 8.4 may set: Pending / InstalledNotCommissioned
    for a device other than a CH, Commissioned / Withdrawn / InstalledNotCommissioned for a
    CH (``ch=True``), per DUIS Schema V5.4.
    """
    f = _Fields("update_inventory")
    f.eui("DeviceID", device_id)
    if sum((status is not None, delete, import_mpxn is not None)) != 1:
        raise f.fail("UpdateInventory", "give exactly one of status, delete, import_mpxn")
    if status is not None:
        allowed = CH_SETTABLE_STATUSES if ch else NON_CH_SETTABLE_STATUSES
        name = "UpdateDeviceStatusCH" if ch else "UpdateDeviceStatusExceptCH"
        if status not in allowed:
            raise f.fail(name, f"{status!r} is not one of {', '.join(sorted(allowed))}")
        f.put(name, status)
    elif delete:
        f.put("DeleteDevice", "")
    else:
        f.put("UpdateMPxN", import_mpxn, lambda v: {"ImportMPxN": _mpxn(v)})
    return _request("8.4", request_id, "UpdateInventory", f.body)


def decommission_device(request_id: RequestId, device_id: str) -> ServiceRequest:
    """8.3 Decommission Device (``DecommissionDevice``)."""
    f = _Fields("decommission_device")
    f.eui("DeviceID", device_id)
    return _request("8.3", request_id, "DecommissionDevice", f.body)


def commission_device(
    request_id: RequestId,
    *,
    current_datetime: dt.datetime | str,
    tolerance_period: int,
    command_variant: int = 4,
) -> ServiceRequest:
    """8.1.1 Commission Device: DUIS's body is ``CommissionDeviceSynchroniseClock``.

    The device is the RequestID's target.  ``tolerance_period`` is in seconds, 0..86400
    (DUIS ``tolerancePeriod``); Command Variant 4 or 5 (DUIS Schema V5.4).
    """
    f = _Fields("commission_device")
    f.put("CurrentDateTime", current_datetime, format_datetime)

    def tolerance(value: int) -> str:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 86_400:
            raise ValueError(f"must be an integer number of seconds 0..86400, got {value!r}")
        return str(value)

    f.put("TolerancePeriod", tolerance_period, tolerance)
    return _request("8.1.1", request_id, "CommissionDeviceSynchroniseClock", f.body,
                    command_variant)


def update_han_device_log(
    request_id: RequestId,
    device_id: str,
    *,
    add: bool = True,
    install_code: str | bytes | None = None,
    join_time_period: int = 90,
    import_mpxn: str | None = None,
    secondary_import_mpan: str | None = None,
    export_mpan: str | None = None,
    execution_datetime: dt.datetime | str | None = None,
) -> ServiceRequest:
    """8.11 Update HAN Device Log: add ``device_id`` to (or remove it from) a CHF's whitelist.

    The RequestID's target is the CHF.  Adding needs the device's install code: 6..16 octets
    as hex (DUIS ``InstallCode`` facets; 16 octets cannot carry a 2-byte CRC within that
    limit, so we take DUIS's value to be the code without its CRC - an inference, not a
    published rule).  ``join_time_period`` is seconds, 1..3600; 90 is DCC's CCS01 example.
    """
    f = _Fields("update_han_device_log")
    f.put("ExecutionDateTime", execution_datetime, format_datetime)
    f.eui("DeviceID", device_id)
    f.put("RequestType", "Add" if add else "Remove")
    if add:
        if install_code is None:
            raise f.fail("AddDeviceToCHFWhitelist.InstallCode", "adding a device needs its "
                         "install code")
        whitelist = _Fields("update_han_device_log")

        def join(value: int) -> str:
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 3600:
                raise ValueError(f"must be 1..3600 seconds, got {value!r}")
            return str(value)

        def code(value: str | bytes) -> str:
            text = value.hex() if isinstance(value, bytes) else value.replace(" ", "")
            if not _HEX.match(text) or len(text) % 2 or not 6 <= len(text) // 2 <= 16:
                raise ValueError("an install code is 6..16 octets of hex")
            return text.upper()

        whitelist.put("JoinTimePeriod", join_time_period, join)
        whitelist.put("InstallCode", install_code, code)
        whitelist.put("ImportMPxN", import_mpxn, _mpxn)
        whitelist.put("SecondaryImportMPAN", secondary_import_mpan, _mpan)
        whitelist.put("ExportMPAN", export_mpan, _mpan)
        f.body["AddDeviceToCHFWhitelist"] = whitelist.body
    elif any(v is not None for v in (install_code, import_mpxn, secondary_import_mpan,
                                     export_mpan)):
        raise f.fail("AddDeviceToCHFWhitelist", "removing a device takes no install code "
                     "or MPxN")
    return _request("8.11", request_id, "UpdateHANDeviceLog", f.body)


# --- device reads ------------------------------------------------------------------------


def read_event_log(
    request_id: RequestId,
    *,
    start: dt.datetime | str,
    end: dt.datetime | str,
    log: LogToRead | str = LogToRead.EVENT,
    schema_version: str = "5.4",
) -> ServiceRequest:
    """6.13 Read Event or Security Log of the RequestID's target (``ReadEventOrSecurityLog``)."""
    f = _Fields("read_event_log")
    period = _Fields("read_event_log")
    period.put("StartDateTime", start, format_datetime)
    period.put("EndDateTime", end, format_datetime)
    if isinstance(start, dt.datetime) and isinstance(end, dt.datetime) and end < start:
        raise f.fail("ReadLogPeriod", f"end {end.isoformat()} is before start "
                     f"{start.isoformat()}")
    f.body["ReadLogPeriod"] = period.body
    f.put("LogToRead", log, lambda v: checked(LogToRead, v, "LogToRead"))
    return _request("6.13", request_id, "ReadEventOrSecurityLog", f.body,
                    schema_version=schema_version)


def read_supply_status(request_id: RequestId) -> ServiceRequest:
    """7.4 Read Supply Status of the RequestID's target (empty ``ReadSupplyStatus``)."""
    return _request("7.4", request_id, "ReadSupplyStatus", {})


def read_firmware_version(
    request_id: RequestId, *, execution_datetime: dt.datetime | str | None = None
) -> ServiceRequest:
    """11.2 Read Firmware Version of the RequestID's target (``ReadFirmwareVersion``)."""
    f = _Fields("read_firmware_version")
    f.put("ExecutionDateTime", execution_datetime, format_datetime)
    return _request("11.2", request_id, "ReadFirmwareVersion", f.body)


# --- 8.14 Communications Hub status updates ----------------------------------------------


def _ch_install(f: _Fields, device_id: str, install_type: str, install_datetime: Any,
                user_ref_id: str | None, mpxn: str, gis_data: str | None,
                aerial_install: bool, location: str) -> None:
    """The leading elements 8.14.1 and 8.14.2 share."""
    f.eui("DeviceID", device_id)
    f.put("CHFInstallType", install_type, lambda v: checked(CHFInstallType, v,
                                                               "CHFInstallType"))
    f.put("InstallDateTime", install_datetime, format_datetime)
    f.text("UserRefID", user_ref_id, 0, 25)
    f.put("MPxN", mpxn, _mpxn)
    f.text("GISData", gis_data, 0, 25)
    f.put("AerialInstall", aerial_install, _bool)
    f.put("CHFLocation", location, lambda v: checked(CHFLocation, v, "CHFLocation"))


def ch_install_success(
    request_id: RequestId,
    device_id: str,
    *,
    mpxn: str,
    aerial_install: bool,
    location: CHFLocation | str,
    install_type: CHFInstallType | str = CHFInstallType.NEW,
    install_datetime: dt.datetime | str | None = None,
    user_ref_id: str | None = None,
    gis_data: str | None = None,
    additional_information: str | None = None,
) -> ServiceRequest:
    """8.14.1 CH installed with SM WAN (``CHFInstallSuccessSMWAN``)."""
    f = _Fields("ch_install_success")
    _ch_install(f, device_id, install_type, install_datetime, user_ref_id, mpxn, gis_data,
                aerial_install, location)
    f.text("AdditionalInformation", additional_information, 0, 200)
    return _request("8.14.1", request_id, "CHFInstallSuccessSMWAN", f.body)


def ch_install_no_sm_wan(
    request_id: RequestId,
    device_id: str,
    *,
    mpxn: str,
    aerial_install: bool,
    location: CHFLocation | str,
    premise_type: PremiseType | str,
    metal_obstruction: bool,
    connectivity_obstruction: bool,
    shared_obstruction: bool,
    install_type: CHFInstallType | str = CHFInstallType.NO_SM_WAN,
    install_datetime: dt.datetime | str | None = None,
    user_ref_id: str | None = None,
    gis_data: str | None = None,
    additional_information: str | None = None,
) -> ServiceRequest:
    """8.14.2 CH installed without SM WAN (``CHFInstallSuccessNoSMWAN``)."""
    f = _Fields("ch_install_no_sm_wan")
    _ch_install(f, device_id, install_type, install_datetime, user_ref_id, mpxn, gis_data,
                aerial_install, location)
    f.put("PremiseType", premise_type, lambda v: checked(PremiseType, v, "PremiseType"))
    f.put("MetalObstructionCheck", metal_obstruction, _bool)
    f.put("ConnectivityObstructionCheck", connectivity_obstruction, _bool)
    f.put("SharedObstructionCheck", shared_obstruction, _bool)
    f.text("AdditionalInformation", additional_information, 0, 200)
    return _request("8.14.2", request_id, "CHFInstallSuccessNoSMWAN", f.body)


def ch_fault_return(
    request_id: RequestId,
    device_id: str,
    *,
    return_type: CHFFaultReturnType | str,
    other_device_id: str,
    connection_method: CHFConnectionMethod | str,
    reason: CHFFaultReason | str,
    user_ref_datetime: dt.datetime | str | None = None,
    user_ref_id: str | None = None,
    incident_reference: str | None = None,
    additional_information: str | None = None,
) -> ServiceRequest:
    """8.14.3 CH returned with a fault (``CHFFaultReturn``): type, connection and reason."""
    f = _Fields("ch_fault_return")
    f.eui("DeviceID", device_id)
    f.put("CHFFaultReturnType", return_type,
          lambda v: checked(CHFFaultReturnType, v, "CHFFaultReturnType"))
    f.put("UserRefDateTime", user_ref_datetime, format_datetime)
    f.text("UserRefID", user_ref_id, 0, 25)
    f.eui("OtherDeviceID", other_device_id)
    f.text("IncidentReference", incident_reference, 0, 15)
    f.put("CHFConnectionMethod", connection_method,
          lambda v: checked(CHFConnectionMethod, v, "CHFConnectionMethod"))
    f.put("CHFFaultReason", reason, lambda v: checked(CHFFaultReason, v, "CHFFaultReason"))
    f.text("AdditionalInformation", additional_information, 0, 200)
    return _request("8.14.3", request_id, "CHFFaultReturn", f.body)


def ch_no_fault_return(
    request_id: RequestId,
    device_id: str,
    *,
    return_type: CHFNoFaultReturnType | str = CHFNoFaultReturnType.GENERAL,
    user_ref_datetime: dt.datetime | str | None = None,
    user_ref_id: str | None = None,
    incident_reference: str | None = None,
    additional_information: str | None = None,
) -> ServiceRequest:
    """8.14.4 CH returned with no fault (``CHFNoFaultReturn``)."""
    f = _Fields("ch_no_fault_return")
    f.eui("DeviceID", device_id)
    f.put("CHFNoFaultReturnType", return_type,
          lambda v: checked(CHFNoFaultReturnType, v, "CHFNoFaultReturnType"))
    f.put("UserRefDateTime", user_ref_datetime, format_datetime)
    f.text("UserRefID", user_ref_id, 0, 25)
    f.text("IncidentReference", incident_reference, 0, 15)
    f.text("AdditionalInformation", additional_information, 0, 200)
    return _request("8.14.4", request_id, "CHFNoFaultReturn", f.body)


_CH_BUILDERS: dict[str, Callable[..., ServiceRequest]] = {
    "8.14.1": ch_install_success,
    "8.14.2": ch_install_no_sm_wan,
    "8.14.3": ch_fault_return,
    "8.14.4": ch_no_fault_return,
}


def ch_status_update(variant: str, request_id: RequestId, device_id: str, **fields: Any
                     ) -> ServiceRequest:
    """8.14.1-8.14.4 by variant: the matching ``ch_*`` builder with ``fields``."""
    builder = _CH_BUILDERS.get(variant)
    if builder is None:
        raise DuisError(f"{variant!r} is not a CH status update (8.14.1-8.14.4)",
                        response_code=MALFORMED, source="ch_status_update")
    return builder(request_id, device_id, **fields)
