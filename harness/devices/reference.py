"""The reference profile: triage over IEC 62056-21 programming mode and the reference map.

Every operation runs inside one programming session (sign-on, P1 with the slot's optical
password, R1/W1/E2, B0); :meth:`session` keeps a session open across several operations so
a full diagnosis signs on once.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from contextlib import contextmanager

from harness.devices import reference_map as rmap
from harness.devices.profile import DeviceProfile
from harness.devices.records import (
    CertificateInfo,
    DeviceIdentity,
    Diagnostics,
    HanInfo,
    LogRecord,
    WanInfo,
)
from harness.domain.types import DeviceType
from harness.drivers.optical.base import ProgrammingSession
from harness.errors import OperationError, ProtocolError
from harness.protocols.installcode import InstallCode

_TIME_FMT = "%Y-%m-%dT%H:%M:%SZ"
_SWITCHED = (DeviceType.ESME, DeviceType.GSME)  # a load switch or a valve


def parse_time(text: str) -> datetime.datetime:
    """The map's UTC timestamp format."""
    try:
        return datetime.datetime.strptime(text, _TIME_FMT).replace(tzinfo=datetime.UTC)
    except ValueError:
        raise ProtocolError(f"timestamp {text!r} is not {_TIME_FMT}") from None


class ReferenceProfile(DeviceProfile):
    """Meters that serve :mod:`harness.devices.reference_map` (every emulated meter does)."""

    name = "reference"
    device_types = frozenset({DeviceType.ESME, DeviceType.GSME, DeviceType.CHF})
    required_secrets = frozenset({"optical_password"})  # the reset's programming session
    updates_han_device_log = True  # a hub's HAN.ADD / HAN.DEL

    _active: ProgrammingSession | None = None

    @contextmanager
    def session(self) -> Iterator[None]:
        if self._active is not None:
            yield
            return
        if self.probe is None:
            raise OperationError("the reference profile talks through an optical probe; "
                                 "it was given none")
        with self.probe.programming(self.secret("optical_password")) as session:
            self._active = session
            try:
                yield
            finally:
                self._active = None

    def _session(self) -> ProgrammingSession:
        if self._active is None:
            raise OperationError("reference profile used outside a session")
        return self._active

    def _read(self, address: str) -> str:
        with self.session():
            return self._session().read(address)

    def _read_optional(self, address: str) -> str | None:
        """A read where ER-NODATA means "nothing held"."""
        try:
            return self._read(address)
        except OperationError as exc:
            if rmap.NO_DATA in str(exc):
                return None
            raise

    def _execute(self, register: rmap.Register, value: str = "", *, secret: bool = False
                 ) -> None:
        with self.session():
            self._session().execute(register.address, value, secret=secret)

    # -- the contract ----------------------------------------------------------------------

    def identify(self) -> DeviceIdentity:
        with self.session():
            v = {r.name: self._read(r.address) for r in rmap.IDENTITY}
        return DeviceIdentity(
            device_type=DeviceType.parse(v["device_type"]),
            device_id=v["device_id"],
            serial=v["serial"],
            manufacturer=v["manufacturer"],
            model=v["model"],
            firmware_version=v["firmware_version"],
            smets_version=v["smets_version"],
            gbcs_version=v["gbcs_version"],
        )

    def read_log(self, count_register: rmap.Register) -> tuple[LogRecord, ...]:
        """Every entry of one log, oldest first."""
        with self.session():
            count = int(self._read(count_register.address))
            records = []
            for n in range(1, count + 1):
                entry = self._read(rmap.log_entry_address(count_register, n))
                code, _, stamp = entry.partition(";")
                records.append(LogRecord(int(code, 16), parse_time(stamp)))
        return tuple(records)

    def _read_power_log(self) -> tuple[LogRecord, ...]:
        """The power event log where the meter's map has one (a map without it answers an
        error for its count: then there is nothing to read, as on a route with no such log)."""
        try:
            if self._read_optional(rmap.POWER_LOG_COUNT.address) is None:
                return ()
        except OperationError:
            return ()
        return self.read_log(rmap.POWER_LOG_COUNT)

    def read_diagnostics(self) -> Diagnostics:
        with self.session():
            identity = self.identify()
            device_time = parse_time(self._read(rmap.CLOCK.address))
            read_at = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
            tamper = self._read(rmap.TAMPER.address)
            han = {r.name: self._read(r.address) for r in rmap.HAN}
            kind = identity.device_type
            gas = kind is DeviceType.GSME
            battery = self._read_optional(rmap.BATTERY.address) if gas else None
            remaining = self._read_optional(rmap.BATTERY_REMAINING.address) if gas else None
            wan = self._read_wan() if kind is DeviceType.CHF else None
            supply = self._read(rmap.SUPPLY.address) if kind in _SWITCHED else None
            anchors = []
            for role in rmap.ANCHOR_ROLES:
                value = self._read_optional(rmap.anchor_address(role))
                subject, _, spki = (value or "").partition(";")
                anchors.append(CertificateInfo(role, subject or None, spki or None))
            return Diagnostics(
                identity=identity,
                device_time=device_time,
                read_at=read_at,
                event_log=self.read_log(rmap.EVENT_LOG_COUNT),
                security_log=self.read_log(rmap.SECURITY_LOG_COUNT),
                power_log=self._read_power_log(),
                tamper=frozenset(t for t in tamper.split(",") if t),
                supply=supply,
                wan=wan,
                han=HanInfo(
                    joined=han["han_joined"] == "1",
                    channel=int(han["han_channel"]) if han["han_channel"] else None,
                    pan_id=int(han["han_pan_id"], 16) if han["han_pan_id"] else None,
                    awaiting_install_code_join=han["han_awaiting_install_code"] == "1",
                ),
                certificates=tuple(anchors),
                battery_v=float(battery) if battery else None,
                battery_percent=float(remaining) if remaining else None,
            )

    def _read_wan(self) -> WanInfo:
        v = {r.name: self._read(r.address) for r in rmap.WAN}
        return WanInfo(modem=v["wan_modem"], sim_present=v["wan_sim"] == "1",
                       rssi_dbm=float(v["wan_rssi"]) if v["wan_rssi"] else None,
                       connected=v["wan_connected"] == "1")

    def read_clock(self) -> datetime.datetime:
        return parse_time(self._read(rmap.CLOCK.address))

    def read_supply(self) -> str:
        return self._read(rmap.SUPPLY.address)

    def _set_supply(self, state: str) -> str:
        with self.session():
            self._session().write(rmap.SUPPLY.address, state)
            return self._read(rmap.SUPPLY.address)

    def _reset_certificates(self) -> None:
        self._execute(rmap.RESET_CERTIFICATES)

    def _clear_consumer_data(self) -> None:
        self._execute(rmap.RESET_CONSUMER_DATA)

    def _reset_han(self) -> None:
        self._execute(rmap.RESET_HAN)

    def _reset_lifecycle(self) -> None:
        self._execute(rmap.RESET_LIFECYCLE)

    def _add_han_device(self, eui64: str, install_code: InstallCode) -> None:
        # the install code is a secret: masked in the probe's transcript
        self._execute(rmap.HAN_DEVICE_ADD, f"{eui64},{install_code.reveal()}",
                      secret=True)

    def _remove_han_device(self, eui64: str) -> None:
        self._execute(rmap.HAN_DEVICE_REMOVE, eui64)

    def read_consumer_data(self) -> dict[str, str | None]:
        with self.session():
            return {r.name: self._read_optional(r.address) for r in rmap.CONSUMER_DATA}

    def read_metrology(self) -> dict[str, str | None]:
        with self.session():
            return {r.name: self._read_optional(r.address) for r in rmap.METROLOGY}
