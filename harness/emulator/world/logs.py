"""A device's event, security and power event logs: GBCS alert codes with RTC timestamps.

Which log an alert lands in is not stated by the domain page; the emulator files security,
access, tamper, firmware, credential and local-port alerts in the security log, power alerts
in the power event log, and the rest in the event log (``LOG_OF_CATEGORY``).
"""

from __future__ import annotations

import bisect
import datetime
from dataclasses import dataclass, field
from enum import StrEnum

from harness.protocols.gbcs_alerts import AlertCategory, GbcsAlert, alert_info


class LogKind(StrEnum):
    """The three logs a device keeps."""

    EVENT = "event"
    SECURITY = "security"
    POWER = "power"


_C = AlertCategory
LOG_OF_CATEGORY: dict[AlertCategory, LogKind] = {
    **dict.fromkeys(
        (_C.SECURITY, _C.ACCESS, _C.TAMPER, _C.FIRMWARE, _C.CERTIFICATES, _C.LOCAL_PORT),
        LogKind.SECURITY,
    ),
    _C.POWER: LogKind.POWER,
    _C.GAS_POWER: LogKind.POWER,
}
"""Alert category → log; categories not listed go to the event log."""


@dataclass(frozen=True)
class LogEntry:
    """One log entry: the alert code, the device's clock when it happened, optional detail."""

    code: int
    timestamp: datetime.datetime
    detail: str = ""

    def __deepcopy__(self, memo: dict[int, object]) -> LogEntry:
        """Itself: frozen and immutable, so every copy of a log may share it."""
        return self

    @property
    def name(self) -> str:
        """The alert's meaning (GB-SMART-METERING.md table)."""
        return alert_info(self.code).name

    @property
    def hex(self) -> str:
        """The code as GBCS writes it: ``0x8F57``."""
        return f"0x{self.code:04X}"


@dataclass
class DeviceLogs:
    """The three logs, each a ring of ``capacity`` entries (oldest overwritten first)."""

    capacity: int = 100
    entries: dict[LogKind, list[LogEntry]] = field(
        default_factory=lambda: {kind: [] for kind in LogKind}
    )

    def record(self, code: int, at: datetime.datetime, detail: str = "") -> LogEntry:
        """Append an entry to the log its category belongs in."""
        kind = LOG_OF_CATEGORY.get(alert_info(code).category, LogKind.EVENT)
        entry = LogEntry(int(code), at, detail)
        log = self.entries[kind]
        log.append(entry)
        del log[: max(0, len(log) - self.capacity)]
        return entry

    def record_past(self, code: int, at: datetime.datetime, detail: str = "") -> LogEntry:
        """Add an entry that happened at ``at`` in the past (a field history), kept in time
        order among the entries already there."""
        kind = LOG_OF_CATEGORY.get(alert_info(code).category, LogKind.EVENT)
        entry = LogEntry(int(code), at, detail)
        log = self.entries[kind]
        log.insert(bisect.bisect_right([e.timestamp for e in log], at), entry)
        del log[: max(0, len(log) - self.capacity)]
        return entry

    def clear_event_log(self, at: datetime.datetime) -> LogEntry:
        """Empty the event log, whose first entry then records the clearing (0x8F52)."""
        self.entries[LogKind.EVENT].clear()
        return self.record(GbcsAlert.EVENT_LOG_CLEARED, at)

    def read(self, kind: LogKind | str) -> tuple[LogEntry, ...]:
        """One log's entries, oldest first."""
        return tuple(self.entries[LogKind(kind)])

    def codes(self, kind: LogKind | str | None = None) -> list[int]:
        """The codes in one log (or all three, event then security then power)."""
        kinds = list(LogKind) if kind is None else [LogKind(kind)]
        return [e.code for k in kinds for e in self.entries[k]]
