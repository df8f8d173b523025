"""The emulated DCC's Smart Metering Inventory (SMI): device records, statuses, a change log.

Each record is one device the DCC knows: EUI-64, device type, SMI status, MPxN, the CHF whose
HAN it is in (and a hub's GPF), its install code and what pre-notification said about it.
Statuses change only along ``transitions.TRANSITIONS``.  Every change is recorded with who
made it and under which RequestID, so a test can assert that a refused request changed
nothing (:meth:`SmartMeteringInventory.snapshot` before and after, or :meth:`changes`).

Changes are made in a :meth:`SmartMeteringInventory.transaction`: all of a request's changes
land together when it succeeds and none when it fails.  Thread-safe (one lock).
"""

from __future__ import annotations

import datetime
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from typing import Any

from harness.domain.eui64 import eui64_duis, normalise_eui64
from harness.domain.types import DeviceType, SmiStatus
from harness.emulator.dcc.transitions import INITIAL_STATUSES, allowed_targets, transition
from harness.protocols.duis import DuisError
from harness.protocols.duis.codes import DEVICE_NOT_FOUND, INVALID_DEVICE_STATUS, MALFORMED
from harness.protocols.installcode import InstallCode

__all__ = ["DeviceRecord", "InventoryChange", "InventoryTransaction", "SmartMeteringInventory"]


@dataclass(frozen=True)
class DeviceRecord:
    """One device in the SMI (immutable: a change makes a new record)."""

    device_id: str  # EUI-64, 16 upper-case hex digits
    device_type: DeviceType
    status: SmiStatus
    mpxn: str | None = None  # ImportMPxN (MPAN or MPRN)
    secondary_mpxn: str | None = None
    chf_id: str | None = None  # the CHF whose HAN the device is in (a GPF's: its own hub)
    gpf_id: str | None = None  # a CHF's Gas Proxy Function
    install_code: InstallCode | None = field(default=None, repr=False)  # masked when printed
    manufacturer: str | None = None
    model: str | None = None
    firmware_version: str | None = None
    smets_chts_version: str | None = None
    variant: str | None = None  # e.g. ESMEVariant from pre-notification
    ch_return: tuple[tuple[str, str], ...] = ()  # the last 8.14.3/8.14.4 details
    origin: str = ""  # how the record came to be (bench seed, reference data, 12.2)

    def __post_init__(self) -> None:
        object.__setattr__(self, "device_id", normalise_eui64(self.device_id))
        for name in ("chf_id", "gpf_id"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, normalise_eui64(value))

    @property
    def duis_id(self) -> str:
        """The EUI-64 as DUIS writes it (dash-separated pairs)."""
        return eui64_duis(self.device_id)


def _shown(name: str, value: Any) -> str:
    """How a field value appears in the change log (an install code only masked)."""
    if name == "install_code" and value is not None:
        return repr(value)
    if isinstance(value, tuple):  # ch_return: (name, value) pairs
        return "; ".join(f"{k}={v}" for k, v in value)
    return "" if value is None else str(value)


@dataclass(frozen=True)
class InventoryChange:
    """One recorded change: which device, what moved from what to what, who asked and why."""

    seq: int
    at: datetime.datetime  # wall-clock UTC
    who: str  # user id (EUI-64), or "DCC", "CHF <eui>", "seed"
    request_id: str | None
    device_id: str
    changes: tuple[tuple[str, str, str], ...]  # (field, old, new); ("record", "", "added")
    reason: str


class InventoryTransaction:
    """Changes staged for one request; applied together when the transaction ends well."""

    def __init__(self, records: dict[str, DeviceRecord], who: str, request_id: str | None
                 ) -> None:
        self._records = dict(records)
        self.who = who
        self.request_id = request_id
        self.staged: list[tuple[str, tuple[tuple[str, str, str], ...], str]] = []

    # -- reading the staged view --------------------------------------------------------------

    def find(self, device_id: str) -> DeviceRecord | None:
        """The record of ``device_id`` as staged so far, or None."""
        return self._records.get(normalise_eui64(device_id))

    def get(self, device_id: str, *, path: str = "DeviceID") -> DeviceRecord:
        """The record of ``device_id``; DUIS E19 when the SMI has no such device."""
        try:
            key = normalise_eui64(device_id)
        except ValueError as exc:
            raise DuisError(str(exc), response_code=MALFORMED, path=path) from None
        record = self._records.get(key)
        if record is None:
            raise DuisError(f"device {eui64_duis(key)} is not in the Smart Metering Inventory",
                            response_code=DEVICE_NOT_FOUND, path=path, device=key)
        return record

    def records(self) -> list[DeviceRecord]:
        """Every record as staged so far."""
        return list(self._records.values())

    def hub_devices(self, chf_id: str) -> list[DeviceRecord]:
        """Records whose CHF is ``chf_id`` (its HAN devices, the GPF included)."""
        key = normalise_eui64(chf_id)
        return [r for r in self._records.values() if r.chf_id == key and r.device_id != key]

    # -- changing ----------------------------------------------------------------------------

    def add(self, record: DeviceRecord, reason: str, *, seed: bool = False) -> DeviceRecord:
        """Enter a new device (status Pending or Not Applicable unless ``seed``)."""
        if record.device_id in self._records:
            raise DuisError(f"device {record.duis_id} is already in the inventory",
                            response_code=INVALID_DEVICE_STATUS, device=record.device_id)
        if not seed and record.status not in INITIAL_STATUSES:
            raise DuisError(f"a device enters the inventory as Pending, not {record.status}",
                            response_code=INVALID_DEVICE_STATUS, device=record.device_id)
        self._records[record.device_id] = record
        self.staged.append((record.device_id, (("record", "", f"added as {record.status}"),),
                            reason))
        return record

    def delete(self, device_id: str, reason: str) -> None:
        """Remove a device from the inventory (8.4 DeleteDevice)."""
        record = self.get(device_id)
        del self._records[record.device_id]
        self.staged.append((record.device_id, (("record", str(record.status), "deleted"),),
                            reason))

    def set_status(self, device_id: str, target: SmiStatus, reason: str) -> DeviceRecord:
        """Move a device to ``target`` along an allowed transition (DUIS E5 otherwise)."""
        record = self.get(device_id)
        if record.status is target:
            return record
        if transition(record.status, target) is None:
            allowed = ", ".join(allowed_targets(record.status)) or "none"
            raise DuisError(
                f"device {record.duis_id} is {record.status}: it cannot become {target} "
                f"({reason}); from {record.status} it may become: {allowed}",
                response_code=INVALID_DEVICE_STATUS, device=record.device_id,
                status=str(record.status), target=str(target))
        return self.update(device_id, reason, status=target)

    def update(self, device_id: str, reason: str, **values: Any) -> DeviceRecord:
        """Change fields other than by a status rule (use :meth:`set_status` for the status)."""
        record = self.get(device_id)
        known = {f.name for f in fields(DeviceRecord)}
        unknown = set(values) - known
        if unknown or "device_id" in values:
            raise ValueError(f"cannot update {sorted(unknown | ({'device_id'} & set(values)))}")
        new = replace(record, **values)
        diff = tuple((name, _shown(name, getattr(record, name)), _shown(name, getattr(new, name)))
                     for name in values if getattr(record, name) != getattr(new, name))
        if diff:
            self._records[record.device_id] = new
            self.staged.append((record.device_id, diff, reason))
        return new


class SmartMeteringInventory:
    """The DCC's device inventory; change it only through :meth:`transaction`."""

    def __init__(self) -> None:
        self._records: dict[str, DeviceRecord] = {}
        self._changes: list[InventoryChange] = []
        self._lock = threading.RLock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)

    def __contains__(self, device_id: object) -> bool:
        if not isinstance(device_id, str):
            return False
        return self.find(device_id) is not None

    @contextmanager
    def transaction(self, who: str, request_id: str | None = None
                    ) -> Iterator[InventoryTransaction]:
        """Stage changes; they are applied and recorded only if the block ends without error.

        The lock is held throughout, so one request's changes never interleave another's.
        """
        with self._lock:
            tx = InventoryTransaction(self._records, who, request_id)
            yield tx
            now = datetime.datetime.now(datetime.UTC)
            for device_id, diff, reason in tx.staged:
                self._changes.append(InventoryChange(
                    len(self._changes) + 1, now, who, request_id, device_id, diff, reason))
            self._records = tx._records

    def seed(self, record: DeviceRecord, reason: str) -> DeviceRecord:
        """Enter a device as it already is (the emulator's starting state), recorded as seed."""
        with self.transaction("seed") as tx:
            return tx.add(record, reason, seed=True)

    def find(self, device_id: str) -> DeviceRecord | None:
        """The record of ``device_id`` (any EUI-64 spelling), or None."""
        try:
            key = normalise_eui64(device_id)
        except ValueError:
            return None
        with self._lock:
            return self._records.get(key)

    def get(self, device_id: str) -> DeviceRecord:
        """The record of ``device_id``; DUIS E19 when there is none."""
        with self.transaction("read") as tx:
            return tx.get(device_id)

    def records(self) -> dict[str, DeviceRecord]:
        """Every record by EUI-64 (a copy)."""
        with self._lock:
            return dict(self._records)

    def snapshot(self) -> tuple[DeviceRecord, ...]:
        """Every record in EUI-64 order: equal snapshots mean nothing changed."""
        with self._lock:
            return tuple(self._records[k] for k in sorted(self._records))

    @property
    def version(self) -> int:
        """How many changes have been recorded (a mark for :meth:`changes`)."""
        with self._lock:
            return len(self._changes)

    def changes(self, since: int = 0, device_id: str | None = None) -> list[InventoryChange]:
        """Changes after mark ``since``, optionally for one device only."""
        key = normalise_eui64(device_id) if device_id else None
        with self._lock:
            return [c for c in self._changes[since:] if key is None or c.device_id == key]

    def status_history(self, device_id: str) -> list[SmiStatus]:
        """Every status ``device_id`` has had in this inventory, oldest first."""
        history: list[SmiStatus] = []
        for change in self.changes(device_id=device_id):
            for name, _, new in change.changes:
                if name == "record" and new.startswith("added as "):
                    history.append(SmiStatus(new.removeprefix("added as ")))
                elif name == "status":
                    history.append(SmiStatus(new))
        return history
