"""An emulated device as the bench and the triage see it.

This is the base every model (``harness.emulator.world.models``: ESME, GSME, Communications Hub)
builds on: identity and label, SMI lifecycle, security credentials, logs, clock, consumer
data, tamper sensors, the optical port's behaviour, and the triage reset as device
operations.  The bench's supply calls :meth:`supply` and :meth:`current`; the optical port
server calls the read methods.  Faults act only through this behaviour (see
``harness.emulator.world.faults``).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import ClassVar

from harness.domain.types import DeviceType, RemotePartyRole, SmiStatus
from harness.emulator.world import credentials as creds
from harness.emulator.world.catalogue import DeviceModel
from harness.emulator.world.clock import Clock
from harness.emulator.world.consumer import ConsumerData, fill_consumer_data
from harness.emulator.world.device_core import DeviceCore, PowerEvent, operation, reader
from harness.emulator.world.faults import HISTORY_FAULTS, Fault
from harness.emulator.world.han import HanState
from harness.emulator.world.history import FieldHistory
from harness.emulator.world.identity import (
    DeviceIdentity,
    Label,
    install_code_for,
    label_for,
    mismatched,
    other_install_code,
    reported_identity,
)
from harness.emulator.world.logs import DeviceLogs, LogEntry, LogKind
from harness.emulator.world.pki import DeviceCredentials, Party, TestPki
from harness.emulator.world.power_model import PowerProfile
from harness.emulator.world.state import PersistentState, StatusChange
from harness.emulator.world.views import HanStatus, OpticalPortBehaviour, ResetReport
from harness.errors import OperationError
from harness.protocols.gbcs_alerts import GbcsAlert

__all__ = ["EmulatedDevice", "HanStatus", "OpticalPortBehaviour", "PowerEvent", "ResetReport"]

_DAY = 86400.0
RESET_DAYS = 3.0
"""The ``unexpected_resets`` fault's resets fall in the device's last days in service."""
AUTH_FAILURE_DAYS = 10.0
"""The ``auth_failures_in_service`` fault's failures fall in its last days in service."""


class EmulatedDevice(DeviceCore):
    """One emulated device in a slot; ``harness.emulator.world.models`` adds meters and hubs."""

    IN_SERVICE_SUPPLY: ClassVar[str] = ""
    """The load switch / valve state of a device in service (a field return's)."""

    def __init__(
        self,
        slot: str,
        device_type: DeviceType,
        nominal_voltage: float | None = None,
        seed: int = 0,
        clock: Clock | None = None,
        profile: PowerProfile | None = None,
        *,
        model: DeviceModel | str | None = None,
        faults: Iterable[str | Fault] = (),
        pki: TestPki | None = None,
        rtc_epoch: datetime.datetime | None = None,
    ) -> None:
        self.pki = pki or creds.shared_pki()
        self._identity_ready = False
        super().__init__(slot, device_type, nominal_voltage, seed, clock, profile, model,
                         faults, rtc_epoch)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(slot={self.slot!r}, model={self.model.name!r}, "
                f"eui64={self.eui64!r}, seed={self.seed})")

    # -- identity and factory state --------------------------------------------------------

    def _make_identity(self) -> None:
        serial, eui64 = label_for(self.model, self.seed)
        code = install_code_for(self.model, self.seed)
        label_code = code
        if "wrong_install_code_label" in self._faults:
            label_code = other_install_code(code, self.seed, "label-install-code")
        self.label = Label(serial, eui64, label_code)
        if "label_mismatch" in self._faults:
            serial, eui64 = mismatched(serial, eui64, self.seed)
        self.identity: DeviceIdentity = reported_identity(self.model, serial, eui64)
        # The copy the device derives its join key from (corrupt under han_join_fails).
        self._stored_install_code = (
            other_install_code(code, self.seed, "corrupt-install-code")
            if "han_join_fails" in self._faults else code
        )
        self._identity_ready = True

    @property
    def eui64(self) -> str:
        """The EUI-64 the device reports (may differ from its label's: a fault)."""
        return self.identity.eui64

    def _install_code_han(self) -> HanState:
        """HAN state of a device that has left: it will join with its install-code key."""
        return HanState(link_key=self._stored_install_code.link_key())

    def _initial_state(self) -> PersistentState:
        if not self._identity_ready:
            self._make_identity()
        start = self.rtc.now()
        return PersistentState(
            status=self.model.original_status,
            status_history=[StatusChange(start, self.model.original_status, "manufactured")],
            anchors=dict(self.model.original_anchors),
            logs=DeviceLogs(self.model.log_capacity),
            han=self._install_code_han(),
            supply=self.model.original_supply if self._has_supply_control() else "",
        )

    def _has_supply_control(self) -> bool:
        """Whether the device has a load switch or a valve."""
        return False

    # -- boot-time checks --------------------------------------------------------------------

    def _booted(self, t: float) -> None:
        if not self._firmware_ok():
            self._log(GbcsAlert.FIRMWARE_VERIFICATION_FAILED_AT_POWER_ON)
        if "memory_error" in self._faults:
            self._log(GbcsAlert.ERROR_NON_VOLATILE_MEMORY)
        for flag in sorted(self._tamper()):
            self._log(self._tamper_code(flag))

    def _firmware_ok(self) -> bool:
        return "firmware_verification_fails" not in self._faults

    def _require_firmware(self, what: str) -> None:
        if not self._firmware_ok():
            raise OperationError(
                f"{self.slot}: cannot {what}: firmware failed verification, device in boot loader",
                slot=self.slot, operation=what,
            )

    def _silent_radios(self) -> set[str]:
        silent = super()._silent_radios()
        if not self._firmware_ok():
            silent |= {"han", "wan"}
        return silent

    # -- logs and clock --------------------------------------------------------------------

    @reader
    def read_log(self, kind: LogKind | str) -> tuple[LogEntry, ...]:
        """The entries of one log ("event", "security" or "power"), oldest first."""
        return self._ram.logs.read(kind)

    @reader
    def log_codes(self, kind: LogKind | str | None = None) -> list[int]:
        """The alert codes in one log, or in all three."""
        return self._ram.logs.codes(kind)

    @reader
    def clock_time(self) -> datetime.datetime:
        """What the device's real-time clock reads."""
        return self.rtc.now()

    @operation
    def adjust_clock(self, when: datetime.datetime) -> bool:
        """Adjust the clock to ``when`` within the model's tolerance (0x8145); beyond it the
        device refuses (0x81C6).  Returns whether it adjusted."""
        if abs(self.rtc.error_s(when)) > self.model.clock_tolerance_s:
            self._log(GbcsAlert.CLOCK_NOT_ADJUSTED_OUTSIDE_TOLERANCE)
            return False
        self.rtc.set(when)
        self._log(GbcsAlert.CLOCK_ADJUSTED_WITHIN_TOLERANCE)
        return True

    @operation
    def set_clock(self, when: datetime.datetime) -> None:
        """Set the clock unconditionally (as at manufacture or commissioning)."""
        self.rtc.set(when)

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def status(self) -> SmiStatus:
        """The device's SMI status."""
        with self._lock:
            self._tick()
            return self._ram.status

    @reader
    def status_history(self) -> tuple[StatusChange, ...]:
        """Every SMI status the device has had, oldest first."""
        return tuple(self._ram.status_history)

    def _set_status(self, status: SmiStatus, reason: str) -> None:
        if self._ram.status is not status:
            self._ram.status = status
            self._ram.status_history.append(StatusChange(self.rtc.at(self._now), status, reason))
            self._touch()

    @operation
    def update_inventory(self, status: SmiStatus | str, reason: str = "update inventory") -> None:
        """Set the SMI status (as SR 8.4 Update Inventory would)."""
        self._set_status(SmiStatus(status), reason)

    # -- credentials ---------------------------------------------------------------------

    def device_credentials(self) -> DeviceCredentials:
        """The device's own Digital Signing and Key Agreement certificates."""
        return creds.own_credentials(self.pki, self.eui64)

    @reader
    def trust_anchors(self) -> dict[RemotePartyRole, Party | None]:
        """The certificate in each anchor slot (None: empty)."""
        return {r: creds.anchor_party(self.pki, r, v) for r, v in self._ram.anchors.items()}

    @reader
    def anchor_fingerprints(self) -> dict[RemotePartyRole, str | None]:
        """The SubjectPublicKeyInfo fingerprint in each anchor slot (None: empty)."""
        return creds.anchor_fingerprints(self.pki, self._ram.anchors)

    def original_anchor_fingerprints(self) -> dict[RemotePartyRole, str | None]:
        """What the anchor slots of a factory-fresh device of this model hold."""
        return creds.original_anchor_fingerprints(self.model, self.pki)

    @operation
    def replace_anchor(self, role: RemotePartyRole, variant: int) -> None:
        """Put the test PKI's ``variant`` of ``role`` in its anchor slot (0x8F70)."""
        self._require_firmware("update security credentials")
        self._set_anchor(role, variant)

    def _set_anchor(self, role: RemotePartyRole, variant: int | None) -> None:
        if self._ram.anchors.get(role) != variant:
            self._ram.anchors[role] = variant
            self._log(GbcsAlert.UPDATE_SECURITY_CREDENTIALS, role.name)

    # -- consumer data and commissioning ---------------------------------------------------

    @reader
    def consumer_data(self) -> ConsumerData:
        """Everything the device holds about the consumer (all empty when unavailable)."""
        return self._ram.consumer

    def _fill(self, until: datetime.datetime, days: int, mpxn: str | None) -> ConsumerData:
        return fill_consumer_data(self.device_type, self.seed, until, days=days,
                                  tou_registers=self.model.tou_registers,
                                  prepayment=self.model.prepayment, mpxn=mpxn)

    @operation
    def commission_with_consumer_data(self, days: int = 30, mpxn: str | None = None) -> None:
        """Commission (supplier anchors installed, 0x8F69) and fill ``days`` of plausible
        consumer data ending now, drawn from the seed and the device clock."""
        self._require_firmware("commission")
        for role in creds.COMMISSIONING_ROLES:
            self._set_anchor(role, creds.OPERATIONAL_VARIANT)
        self._ram.consumer = self._fill(self.rtc.at(self._now), days, mpxn)
        self._set_status(SmiStatus.COMMISSIONED, "commissioned")
        self._log(GbcsAlert.DEVICE_COMMISSIONED)

    def load_field_history(self, days: int = 200, outage_s: float = 3 * _DAY, *,
                           log_removal: bool = True) -> None:
        """Make this (unpowered) device one returned from the field: installed ``days`` ago,
        commissioned, holding consumer data, and off for ``outage_s`` before the bench (its
        supply loss logged at the removal unless ``log_removal`` is false)."""
        with self._lock:
            if self.powered:
                raise OperationError(f"{self.slot}: field history is loaded before power on")
            now = self._tick()
            removed = self.rtc.at(now - outage_s)
            installed = removed - datetime.timedelta(days=days)
            st, logs = self._ram, self._ram.logs
            for status in (SmiStatus.WHITELISTED, SmiStatus.INSTALLED_NOT_COMMISSIONED,
                           SmiStatus.COMMISSIONED):
                st.status_history.append(StatusChange(installed, status, "field install"))
            st.status = SmiStatus.COMMISSIONED
            if self._has_supply_control():
                st.supply = self.IN_SERVICE_SUPPLY
            for role in creds.COMMISSIONING_ROLES:
                st.anchors[role] = creds.OPERATIONAL_VARIANT
                logs.record(GbcsAlert.UPDATE_SECURITY_CREDENTIALS, installed, role.name)
            self._field_han(installed)
            logs.record(GbcsAlert.DEVICE_COMMISSIONED, installed)
            st.consumer = self._fill(removed, min(days, 60), None)
            if log_removal:
                logs.record(self.model.supply_loss_code, removed)
            self._nv = self._ram.copy()
            self._off_since = now - outage_s

    def load_history(self, history: FieldHistory, *, installed: bool) -> None:
        """Give this (unpowered) device ``history``: in service until ``storage_days`` ago
        (commissioned, with consumer data, when ``installed``), its events logged at their
        times, then a clock that reaches the bench ``clock_offset_s`` off and runs at
        ``clock_drift_ppm`` (a ``clock_drift`` fault's rate wins)."""
        with self._lock:
            if self.powered:
                raise OperationError(f"{self.slot}: a history is loaded before power on")
            now = self._tick()
            if "clock_drift" not in self._faults:
                self.rtc.drift_ppm = history.clock_drift_ppm
            true_now = self.true_time.at(now)
            self.rtc.set(true_now)  # in service the clock was kept right: events carry true times
            if installed:
                oldest = max((e.days_before_return for e in history.events), default=0.0)
                days = max(200, int(oldest - history.storage_days) + 30)
                self.load_field_history(days, history.storage_s, log_removal=False)
            else:
                self._off_since = now - history.storage_s
            for event in history.events:
                at = true_now - datetime.timedelta(days=event.days_before_return)
                self._ram.logs.record_past(event.code, at)
            self.rtc.set(true_now + datetime.timedelta(seconds=history.clock_offset_s))
            self._nv = self._ram.copy()

    def _write_past(self, t: float) -> None:
        """Faults that show as alerts logged in service, before the removal: a cover opened
        weeks before it, resets at a rate no brown-out explains, authentication failures with
        no supplier change."""
        if not HISTORY_FAULTS & {f.key for f in self._faults}:
            return  # nothing to write: no copy of the memory to make at power-on
        off = self._off_since if self._off_since is not None else t - _DAY
        removed = self.true_time.at(off)
        logs = self._ram.logs
        if "tamper_in_service" in self._faults:
            days = self._faults.value("tamper_in_service", 30.0)
            code = (GbcsAlert.UNAUTHORISED_PHYSICAL_ACCESS_TAMPER
                    if self.device_type is DeviceType.CHF
                    else GbcsAlert.UNAUTHORISED_PHYSICAL_ACCESS_TERMINAL_COVER)
            logs.record_past(code, removed - datetime.timedelta(days=days))
        if "unexpected_resets" in self._faults:
            count = max(2, round(self._faults.value("unexpected_resets", 6.0) * RESET_DAYS))
            step = datetime.timedelta(days=RESET_DAYS) / count
            for k in range(1, count + 1):
                logs.record_past(GbcsAlert.UNEXPECTED_HARDWARE_RESET, removed - k * step)
        if "auth_failures_in_service" in self._faults:
            count = max(2, round(self._faults.value("auth_failures_in_service", 5.0)))
            step = datetime.timedelta(days=AUTH_FAILURE_DAYS) / count
            for k in range(1, count + 1):
                logs.record_past(GbcsAlert.TRUSTED_SOURCE_AUTHENTICATION_FAILURE,
                                 removed - k * step)
        self._nv = self._ram.copy()

    def _field_han(self, installed: datetime.datetime) -> None:
        """Hook: the HAN state a device had in the field."""

    # -- physical side -----------------------------------------------------------------------

    def _tamper(self) -> set[str]:
        flags = set()
        if "tamper_cover_removed" in self._faults:
            flags.add("cover")
        if "magnetic_tamper" in self._faults:
            flags.add("magnetic")
        return flags

    def _tamper_code(self, flag: str) -> int:
        if flag == "magnetic":
            return GbcsAlert.UNAUTHORISED_PHYSICAL_ACCESS_MAGNETIC_FIELD
        return GbcsAlert.UNAUTHORISED_PHYSICAL_ACCESS_METER_COVER

    @reader
    def tamper_flags(self) -> frozenset[str]:
        """The tamper sensors that are tripped, as the device's status reports them."""
        return frozenset(self._tamper()) if self._ready else frozenset()

    @reader
    def optical_port_behaviour(self) -> OpticalPortBehaviour:
        """How the optical port answers now (silent while off or booting)."""
        if not self._ready or "optical_port_dead" in self._faults:
            return OpticalPortBehaviour(answers=False, seed=self.seed)
        lost = self._faults.value("optical_port_intermittent", 0.0)
        return OpticalPortBehaviour(True, lost / 2, lost / 2, self.seed)

    @operation
    def record_local_port_access(self) -> None:
        """The optical port was used (0x81A5): the port server calls this on a sign-on."""
        self._log(GbcsAlert.COMMUNICATION_FROM_LOCAL_PORT)

    # -- HAN ------------------------------------------------------------------------------

    @reader
    def han_status(self) -> HanStatus:
        """Joined or not, where, and whether the device waits to join with its install code."""
        han = self._ram.han
        waiting = not han.joined and han.link_key == self._stored_install_code.link_key()
        return HanStatus(han.joined, han.channel, han.pan_id, han.coordinator, waiting)

    def _reset_han(self) -> bool:
        """Leave the HAN and go back to the install-code key; True if it was joined."""
        was = self._ram.han.joined
        self._ram.han = self._install_code_han()
        if was:
            self._log(GbcsAlert.DEVICE_UNJOINING_SUCCEEDED)
        return was

    # -- the triage reset (SECMP0010/0013 minimum, GB-SMART-METERING.md) -----------------------

    @operation
    def reset_security_credentials(self) -> tuple[RemotePartyRole, ...]:
        """Every anchor slot back to the model's original state (0x8F70 per slot changed)."""
        self._require_firmware("reset security credentials")
        original = self.model.original_anchors
        changed = tuple(r for r, v in original.items() if self._ram.anchors.get(r) != v)
        for role in changed:
            self._set_anchor(role, original[role])
        return changed

    @operation
    def reset_han(self) -> bool:
        """Leave the HAN, ready to rejoin with the install code; True if it was joined."""
        self._require_firmware("reset HAN")
        return self._reset_han()

    @operation
    def clear_consumer_data(self) -> bool:
        """Make every consumer datum unavailable; True if there was any. A meter keeps its
        cumulative registers (legal metrology, never reset: MID); a hub's copies go."""
        self._require_firmware("clear consumer data")
        had = self._ram.consumer.available
        meter = self.device_type in (DeviceType.ESME, DeviceType.GSME)
        keeps = meter and "reset_erases_registers" not in self._faults
        self._ram.consumer = self._ram.consumer.metrology_only() if keeps else ConsumerData()
        return had

    @operation
    def reset_lifecycle(self) -> SmiStatus:
        """SMI status (and supply state) back to the model's original."""
        self._require_firmware("reset lifecycle")
        self._set_status(self.model.original_status, "triage reset")
        if self._has_supply_control():
            self._ram.supply = self.model.original_supply
        return self._ram.status

    @operation
    def clear_event_log(self) -> None:
        """Empty the event log; it then holds one entry, 0x8F52 (SR 3.3)."""
        self._ram.logs.clear_event_log(self.rtc.at(self._now))

    @operation
    def triage_reset(self) -> ResetReport:
        """The whole reset: credentials, HAN, consumer data, lifecycle, then the event log."""
        anchors = self.reset_security_credentials()
        left = self.reset_han()
        cleared = self.clear_consumer_data()
        status = self.reset_lifecycle()
        self.clear_event_log()
        return ResetReport(anchors, left, cleared, status)
