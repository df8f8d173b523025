"""The ``duis`` device profile: triage through Service Requests sent via the DCC, no local port.

SECMP0013's original route (GB-SMART-METERING.md, "Why triage exists"): the device is put in
a QA environment's Communications Hub with a dummy MPxN (``harness.qa.site``: 12.2 again if
it was decommissioned, 8.11 with its label's install code, the join its CHF reports), then
read with DUIS Service Requests: 8.2 Read Inventory and 11.2 Read Firmware Version (identity),
6.13 Read Event or Security Log, 7.4 Read Supply Status.  What DUIS cannot do is asked with
meterbench's PROPOSED requests, which are NOT DUIS and are labelled so wherever they show:
MBP.1 Triage Device (the device's HAN state) and MBP.2 Reset Device (after DUIS 8.3
Decommission: anchors, HAN and consumer data back to original, SMI status back to original,
all in that one request).

What this route cannot observe is declared in ``unobservable`` (the local port, the serial
number, the clock, the tamper sensors, a gas meter's battery, reading consumer data and
anchors back, operating the supply switch: DUIS 7.1-7.3 exist but meterbench does not build
them) and raises NotObservableError if asked, so the triage suites record those clauses as
"not assessed".  With ``proposals = false`` (a DCC serving DUIS only) the HAN state and the
reset are not observable either.  A device the DCC cannot reach raises NotObservableError:
"not assessed", not a fault of the device.  What :meth:`read_diagnostics` cannot observe it
leaves empty: ``device_time`` is None (the clock), and no tamper flags, anchors or battery.

Slot ``profile_options``: ``hub_id`` (the QA hub's EUI-64; default: what the hub slot's own
profile identifies, through its maintenance port), ``hub_slot`` (the slot powering the QA
hub; default: the bench's only CHF slot), ``mpxn`` (default ``harness.qa.dummy_mpxn``),
``device_id`` (when no label is scanned), ``proposals`` (default true), ``timeout_s`` (how
long to wait for the hub and the join, default 10).  The DCC adapter is the slot's ``dcc``
instrument or the bench's only one, and signs as the bench's DCC user: installing and
resetting need a Supplier (IS/GS); a DCC user without them can only triage a device already
in the hub's HAN.  After its reset a device has left the HAN: the profile refuses to reach it
again rather than silently installing it anew.

Every destructive request (8.11 to install, 8.3 and MBP.2 to reset) goes out under the run
gate's permit and is audited by the adapter; installing to read is a Service Request permit
(``DeviceProfile.service_requests``) and, since it is signed as the bench's DCC user (the
Supplier), an operator acting in another role needs the gate's audited Supplier fallback.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from typing import Any, ClassVar, Self

from harness.bench.bench import Bench, Slot
from harness.devices.profile import Capability, DeviceProfile, NotObservableError, SlotView
from harness.devices.records import DeviceIdentity, Diagnostics, HanInfo, LogRecord
from harness.domain.eui64 import eui64_duis, normalise_eui64
from harness.domain.types import DeviceType, SmiStatus
from harness.drivers.dcc.base import DccAdapter, DccResponseError
from harness.drivers.dcc.service_requests import (
    ServiceRequestAdapter,
    ServiceRequestsMixin,
    sends_service_requests,
)
from harness.errors import AccessDeniedError, BenchConfigError, OperationError
from harness.protocols.duis import LogToRead, ServiceResponse, TriageCheck
from harness.protocols.installcode import InstallCode, InstallCodeError
from harness.qa.site import IN_SERVICE, QaSite, dummy_mpxn, entries, power_up

__all__ = ["RemoteProfile"]

_UNREACHABLE = frozenset({"E20", "E21"})  # DUIS communications failures (codes.MEANINGS)
_SUPPLY = {
    DeviceType.ESME: {"Enabled": "enabled", "Disabled": "disabled", "Armed": "armed"},
    DeviceType.GSME: {"Enabled": "open", "Disabled": "closed", "Armed": "armed"},
}
"""7.4's Enabled / Disabled / Armed in the words of the meter (load switch or valve)."""
_LOGS = {
    DeviceType.ESME: (LogToRead.EVENT, LogToRead.SECURITY),
    DeviceType.GSME: (LogToRead.GSME_EVENT, LogToRead.GSME_SECURITY),
}
"""The 6.13 LogToRead values of each meter's event and security logs."""


class RemoteProfile(DeviceProfile):
    """A meter triaged through a DCC adapter (see the module doc)."""

    name = "duis"
    device_types = frozenset({DeviceType.ESME, DeviceType.GSME})
    unobservable: ClassVar[Mapping[Capability, str]] = {
        Capability.LOCAL_PORT: "the duis profile reaches the device through the DCC, not its "
                               "local port",
        Capability.SERIAL: "DUIS reports no serial number",
        Capability.CLOCK: "no Service Request meterbench sends reads the device clock",
        Capability.TAMPER_FLAGS: "no Service Request meterbench sends reads the tamper "
                                 "sensors (tamper alerts are read from the logs)",
        Capability.SUPPLY_SWITCH: "meterbench builds no DUIS 7.1-7.3 request to operate the "
                                  "supply",
        Capability.BATTERY: "no Service Request meterbench sends reads a battery",
        Capability.CONSUMER_DATA: "no Service Request reads consumer data back",
        Capability.ANCHORS: "no Service Request meterbench sends reads the trust anchors",
    }

    def __init__(self, dcc: ServiceRequestsMixin, *, device_id: str, device_type: DeviceType,
                 install_code: InstallCode | str | None = None, hub_id: str | None = None,
                 hub_slot: Slot | None = None, secrets: Mapping[str, str] | None = None,
                 options: Mapping[str, Any] | None = None) -> None:
        super().__init__(None, secrets=secrets, options=options)
        self.dcc = dcc
        self.device_id = normalise_eui64(device_id)
        self.device_type = device_type
        self.install_code = install_code
        self.hub_slot = hub_slot
        self.proposals = bool(self.options.get("proposals", True))
        self.mpxn = str(self.options.get("mpxn") or dummy_mpxn(device_type))
        self._hub_id = normalise_eui64(hub_id) if hub_id else None
        self._site: QaSite | None = None
        self._firmware: dict[str, Any] | None = None  # 11.2 answer of the reachability probe
        self._unreachable: str | None = None  # why the device could not be reached, once known
        self._reset_report: dict[str, Any] | None = None

    @classmethod
    def for_slot(cls, slot: SlotView, *, device_id: str | None = None,
                 install_code: InstallCode | str | None = None) -> Self:
        """The profile for the meter in ``slot``, addressed by its label's EUI-64. It needs
        the slot's whole bench (its DCC adapter, its hub slot), so a slot of an open bench."""
        if not isinstance(slot, Slot):
            raise TypeError(f"the duis profile is made from a slot of an open bench "
                            f"(harness.bench.bench.Slot), not {type(slot).__name__}")
        options = dict(slot.config.profile_options)
        where = f"slots.{slot.name}.profile_options"
        device_id = device_id or options.get("device_id")
        if not device_id:
            raise BenchConfigError("the duis profile addresses the device by its EUI-64: scan "
                                   "its label or give device_id", file=slot.bench.source,
                                   key_path=f"{where}.device_id")
        hub_slot = options.get("hub_slot") or _only_hub_slot(slot.bench)
        return cls(_dcc_of(slot), device_id=device_id, device_type=slot.config.device_type,
                   install_code=install_code, hub_id=options.get("hub_id"),
                   hub_slot=slot.bench.slot(hub_slot) if hub_slot else None,
                   secrets=slot.secrets(), options=options)

    @property
    def audit_device_id(self) -> str | None:
        """The device's EUI-64 (the route addresses it by it)."""
        return self.device_id

    def instruments(self) -> frozenset[str]:
        """The DCC adapter: every destructive request of this route goes through it."""
        return frozenset({self.dcc.name})

    def cannot_observe(self, what: Capability | str) -> str | None:
        """As declared, plus the reset when the PROPOSED requests are switched off."""
        if not self.proposals and Capability(what) is Capability.RESET:
            return "no DUIS request resets a device, and the PROPOSED MBP.2 is switched off"
        return super().cannot_observe(what)

    # -- reaching the device ---------------------------------------------------------------

    @property
    def duis_id(self) -> str:
        """The device's EUI-64 as DUIS writes it."""
        return eui64_duis(self.device_id)

    def _qa_site(self) -> QaSite:
        """The QA environment: the hub slot powered, the hub's EUI-64 known."""
        if self.hub_slot is not None:
            power_up(self.hub_slot)
        if self._site is None:
            hub_id = self._hub_id or self._discover_hub()
            self._site = QaSite(self.dcc, hub_id,
                                timeout_s=float(self.options.get("timeout_s", 10.0)))
        return self._site

    def _discover_hub(self) -> str:
        """The hub's EUI-64 as its slot's own profile identifies it (its maintenance port)."""
        if self.hub_slot is None or self.hub_slot.config.profile == self.name:
            raise BenchConfigError("the duis profile needs the QA hub: give hub_id, or a hub "
                                   "slot whose profile reaches the hub itself",
                                   key_path="profile_options.hub_id")
        return self.hub_slot.profile().identify().device_id

    def _reach(self) -> None:
        """Installed in the QA hub's HAN and answering: installed now if it is not in service
        (see the module doc); NotObservableError when the DCC cannot reach it."""
        if self._reset_report is not None:
            raise NotObservableError(f"{self.duis_id} was reset (PROPOSED MBP.2) and left the "
                                     "HAN: the DCC reaches it only once it is installed again")
        if self._firmware is not None:
            return
        if self._unreachable is not None:  # known already: do not install or wait again
            raise NotObservableError(self._unreachable)
        try:
            self._attach()
        except NotObservableError as exc:
            self._unreachable = str(exc)
            raise

    def _attach(self) -> None:
        """Install the device in the QA hub's HAN unless it is there, then probe it (11.2)."""
        site = self._qa_site()
        try:
            site.ensure_hub()
            item = site.entry(self.device_id)
            if item is None:
                raise NotObservableError(f"{self.duis_id} is not in the Smart Metering "
                                         "Inventory: pre-notify it (12.2)")
            status = SmiStatus(item["DeviceStatus"])
            if status in IN_SERVICE:
                if item.get("CHFID") != eui64_duis(site.hub_id):
                    raise NotObservableError(f"{self.duis_id} is {status} in the HAN of "
                                             f"{item.get('CHFID') or 'no hub'}, not of the QA hub")
            else:
                with self.service_requests("install in the QA hub's HAN to read it"), \
                        self._signing_as_supplier("8.11"):
                    site.install(self.device_id, self._install_code(), mpxn=self.mpxn,
                                 entry=item)
            self._firmware = self._device_read(
                lambda: self.dcc.read_firmware_version(self.device_id)).body
        except DccResponseError as exc:
            raise NotObservableError(f"the DCC does not reach {self.duis_id}: {exc}") from None
        except NotObservableError:
            raise
        except AccessDeniedError as exc:  # the gate would not let this run install it
            raise NotObservableError(f"{self.duis_id} is not in the QA hub's HAN and may not "
                                     f"be installed there: {exc}") from None
        except OperationError as exc:  # e.g. the join never reported
            raise NotObservableError(f"{self.duis_id} could not be installed in the QA hub's "
                                     f"HAN: {exc}") from None

    def _signing_as_supplier(self, variant: str) -> AbstractContextManager[None]:
        """This route signs as the bench's DCC user, the QA environment's Supplier: for an
        operator acting in another role that is the gate's audited Supplier fallback, refused
        unless the run chose it (``--fallback-supplier``)."""
        if self.gate is None or self.gate.role_name == "supplier":
            return nullcontext()
        return self.gate.fallback_to_supplier(
            variant, device_id=self.device_id,
            why="the duis profile installs the meter in the QA hub as the bench's DCC user")

    def _install_code(self) -> InstallCode | str:
        """The label's install code (needed to whitelist the device in the hub)."""
        code = self.install_code
        if code is None:
            raise NotObservableError(f"{self.duis_id} must be whitelisted in the QA hub with "
                                     "its install code, and none was scanned from its label")
        if isinstance(code, str):
            try:
                return InstallCode.parse(code)
            except InstallCodeError as exc:
                raise NotObservableError(f"the label's install code is unusable: {exc}") from None
        return code

    def _device_read(self, send: Callable[[], ServiceResponse]) -> ServiceResponse:
        """A device request whose communications failure (E20/E21) means "not reachable"."""
        try:
            return send()
        except DccResponseError as exc:
            if exc.response_code in _UNREACHABLE:
                raise NotObservableError(f"the DCC does not reach {self.duis_id}: {exc}"
                                         ) from None
            raise

    def _entry(self) -> dict[str, Any]:
        """The device's 8.2 entry (the device is reached first)."""
        self._reach()
        item = self._qa_site().entry(self.device_id)
        if item is None:
            raise NotObservableError(f"{self.duis_id} left the Smart Metering Inventory")
        return item

    # -- the contract ----------------------------------------------------------------------

    def identify(self) -> DeviceIdentity:
        """8.2 (type, SMETS version) and 11.2 (what the device reports); no serial (DUIS has
        none: ``Capability.SERIAL``)."""
        item = self._entry()
        firmware = self._firmware or {}
        return DeviceIdentity(
            device_type=DeviceType.parse(item["DeviceType"]),
            device_id=normalise_eui64(item["DeviceID"]),
            serial="",
            manufacturer=firmware.get("DeviceManufacturer") or item.get("DeviceManufacturer")
            or "",
            model=firmware.get("DeviceModel") or item.get("DeviceModel") or "",
            firmware_version=firmware.get("FirmwareVersion")
            or item.get("DeviceFirmwareVersion") or "",
            smets_version=item.get("SMETSCHTSVersion") or "",
        )

    def read_log(self, which: LogToRead) -> tuple[LogRecord, ...]:
        """One log by 6.13, oldest first."""
        self._reach()
        body = self._device_read(lambda: self.dcc.read_event_log(self.device_id,
                                                                 log=which)).body
        found = body.get("LogEntry") or []
        records = []
        for entry in found if isinstance(found, list) else [found]:
            try:
                code = int(str(entry["AlertCode"]), 16)
                stamp = datetime.datetime.fromisoformat(str(entry["DateTime"]))
            except (KeyError, ValueError) as exc:
                raise OperationError(f"{self.dcc.name}: 6.13 {which} entry of {self.duis_id} "
                                     f"unreadable ({exc}): {entry!r}",
                                     instrument=self.dcc.name) from None
            records.append(LogRecord(code, stamp))
        return tuple(sorted(records, key=lambda r: r.timestamp))

    def read_diagnostics(self) -> Diagnostics:
        """Identity, both logs, the supply state and (PROPOSED MBP.1) the HAN state; the
        device clock is not observed on this route (``device_time`` None)."""
        identity = self.identify()
        read_at = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
        event, security = _LOGS[self.device_type]
        extra = {"route": "DUIS Service Requests via the DCC",
                 "smi_status": str(self._entry()["DeviceStatus"])}
        han = self._han_state(extra)
        power = self.read_log(LogToRead.POWER_EVENT) \
            if self.device_type is DeviceType.ESME else ()  # DUIS has no GSME power log
        return Diagnostics(identity=identity, device_time=None, read_at=read_at,
                           event_log=self.read_log(event), security_log=self.read_log(security),
                           power_log=power,
                           supply=self.read_supply(), han=han, extra=extra)

    def _han_state(self, extra: dict[str, str]) -> HanInfo | None:
        """The device's HAN state by the PROPOSED MBP.1 (None when it cannot be asked)."""
        if not self.proposals:
            extra["han"] = "not observed: the PROPOSED MBP.1 is switched off"
            return None
        response = self.dcc.triage(self.device_id, checks=(TriageCheck.HAN,), check=False)
        if not response.success:
            extra["han"] = (f"not observed: PROPOSED MBP.1 refused: {response.response_code} "
                            f"{response.message}").rstrip()
            return None
        han = response.body.get("HAN") or {}
        extra["han"] = "PROPOSED MBP.1 Triage Device (not DUIS)"
        return HanInfo(joined=han.get("Joined") == "true", channel=None, pan_id=None,
                       awaiting_install_code_join=han.get("AwaitingInstallCodeJoin") == "true")

    def read_supply(self) -> str:
        """7.4 Read Supply Status, in the meter's words (enabled/disabled/armed, open/...)."""
        self._reach()
        body = self._device_read(lambda: self.dcc.read_supply_status(self.device_id)).body
        status = str(body.get("SupplyStatus"))
        try:
            return _SUPPLY[self.device_type][status]
        except KeyError:
            raise OperationError(f"{self.dcc.name}: 7.4 answered SupplyStatus {status!r} for "
                                 f"{self.duis_id}", instrument=self.dcc.name) from None

    def _set_supply(self, state: str) -> str:
        """Not on this route (``Capability.SUPPLY_SWITCH``; the base class refuses first)."""
        raise NotObservableError(self.unobservable[Capability.SUPPLY_SWITCH])

    def _reset(self) -> dict[str, Any]:
        """8.3 Decommission when in service, then PROPOSED MBP.2 Reset Device, once; the
        report of MBP.2 (not DUIS) answers every reset step."""
        if self._reset_report is not None:
            return self._reset_report
        reason = self.cannot_observe(Capability.RESET)
        if reason:
            raise NotObservableError(reason)
        self._reach()
        site = self._qa_site()
        if site.status(self.device_id) in IN_SERVICE:
            self.dcc.decommission(self.device_id)
        report = self._device_read(lambda: self.dcc.reset(self.device_id)).body
        self._reset_report = report
        self._firmware = None
        return report

    def _require(self, report: dict[str, Any], key: str, what: str) -> None:
        """The MBP.2 report must say ``key`` = true for ``what``."""
        if report.get(key) != "true":
            raise OperationError(f"PROPOSED MBP.2 did not {what} on {self.duis_id}: {key} = "
                                 f"{report.get(key)!r}", device=self.device_id)

    def _reset_certificates(self) -> None:
        """Anchors back to original: part of the PROPOSED MBP.2 (ResetSecurityCredentials)."""
        report = self._reset()
        if "ResetSecurityCredentials" not in report:
            raise OperationError(f"PROPOSED MBP.2 report for {self.duis_id} does not say which "
                                 "anchors were reset", device=self.device_id)

    def _clear_consumer_data(self) -> None:
        """Consumer data unavailable: part of the PROPOSED MBP.2."""
        self._require(self._reset(), "MakeConsumerDataUnavailable",
                      "make consumer data unavailable")

    def _reset_han(self) -> None:
        """Left the HAN, waiting to re-join with its install code: part of the PROPOSED MBP.2
        (and the QA hub no longer lists it: 8.2 of the hub)."""
        self._require(self._reset(), "RejoinHANUsingInstallCode", "set the HAN to re-join")
        if self.device_id in self._qa_site().hub_devices():
            raise OperationError(f"after the reset the SMI still lists {self.duis_id} in the "
                                 "QA hub's HAN", device=self.device_id)

    def _reset_lifecycle(self) -> None:
        """SMI status back to what the PROPOSED MBP.2 reported, read back by 8.2."""
        report = self._reset()
        said = {e["DeviceID"]: e.get("DeviceStatus") for e in entries(report)}
        status = self._qa_site().status(self.device_id)
        if status is None or str(status) != said.get(self.duis_id) or status in IN_SERVICE:
            raise OperationError(f"after the reset 8.2 reads {self.duis_id} as {status}; MBP.2 "
                                 f"reported {said.get(self.duis_id)}", device=self.device_id)

    def read_consumer_data(self) -> dict[str, str | None]:
        """Not on this route (``Capability.CONSUMER_DATA``)."""
        raise NotObservableError(self.unobservable[Capability.CONSUMER_DATA])


def _dcc_of(slot: Slot) -> ServiceRequestAdapter:
    """The slot's ``dcc`` instrument, or the bench's only DCC adapter; it must send Service
    Requests by method (a ServiceRequestsMixin), which this profile calls."""
    if "dcc" in slot.config.instruments:
        instrument = slot.instrument("dcc")
        if not isinstance(instrument, DccAdapter):
            raise BenchConfigError(f"slot {slot.name!r}: 'dcc' is not a DCC adapter",
                                   key_path=f"slots.{slot.name}.instruments.dcc")
        key_path = f"slots.{slot.name}.instruments.dcc"
    else:
        names = sorted(slot.bench.config.instruments_of("dcc"))
        if len(names) != 1:
            raise BenchConfigError(f"the duis profile needs one DCC adapter; the bench has "
                                   f"{len(names)}: name one in the slot's instruments as "
                                   "'dcc'", file=slot.bench.source,
                                   key_path=f"slots.{slot.name}.instruments")
        instrument = slot.bench.instrument(names[0], DccAdapter)
        key_path = f"instruments.{names[0]}.kind"
    if not sends_service_requests(instrument):
        raise BenchConfigError(f"the duis profile needs a DCC adapter that sends Service "
                               f"Requests (a ServiceRequestsMixin); {instrument.name!r} is a "
                               f"{type(instrument).__name__}", file=slot.bench.source,
                               key_path=key_path)
    return instrument


def _only_hub_slot(bench: Bench) -> str | None:
    """The bench's one Communications Hub slot, or None when it has none or several."""
    hubs = [name for name, cfg in bench.config.slots.items()
            if cfg.device_type is DeviceType.CHF]
    return hubs[0] if len(hubs) == 1 else None
