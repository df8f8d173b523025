"""What a device profile reads off a device: identity, logs, certificates, HAN, WAN, supply.

Plain frozen records, independent of how the device was reached (optical port, HAN, DUIS),
so the triage classification works on the same evidence whatever the route.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from harness.domain.types import DeviceType, RemotePartyRole


@dataclass(frozen=True)
class DeviceIdentity:
    """Who the device says it is."""

    device_type: DeviceType
    device_id: str  # EUI-64, 16 upper-case hex digits
    serial: str
    manufacturer: str
    model: str
    firmware_version: str
    smets_version: str = ""
    gbcs_version: str = ""


@dataclass(frozen=True)
class LogRecord:
    """One event or security log entry: GBCS alert code and the device's timestamp."""

    code: int
    timestamp: datetime.datetime

    @property
    def code_hex(self) -> str:
        """The code as GBCS writes it, e.g. ``8F57``."""
        return f"{self.code:04X}"


@dataclass(frozen=True)
class CertificateInfo:
    """A trust anchor slot: its role and the public key it holds (None when empty)."""

    role: RemotePartyRole
    subject: str | None
    spki_fingerprint: str | None


@dataclass(frozen=True)
class HanInfo:
    """The HAN side as the device reports it (never key material)."""

    joined: bool
    channel: int | None
    pan_id: int | None
    awaiting_install_code_join: bool


@dataclass(frozen=True)
class WanInfo:
    """A Communications Hub's WAN side."""

    modem: str
    sim_present: bool
    rssi_dbm: float | None
    connected: bool


@dataclass(frozen=True)
class Diagnostics:
    """Everything a triage reads before deciding: the evidence behind a verdict."""

    identity: DeviceIdentity
    device_time: datetime.datetime | None  # None: the route cannot observe the device clock
    read_at: datetime.datetime  # bench UTC time when the diagnostics (the clock) were read
    event_log: tuple[LogRecord, ...] = ()
    security_log: tuple[LogRecord, ...] = ()
    # Supply loss and restore: where a removal shows (empty when the route has no such log).
    power_log: tuple[LogRecord, ...] = ()
    tamper: frozenset[str] = frozenset()
    supply: str | None = None  # ESME load switch / GSME valve state
    han: HanInfo | None = None
    wan: WanInfo | None = None
    certificates: tuple[CertificateInfo, ...] = ()
    battery_v: float | None = None
    battery_percent: float | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def logs(self) -> tuple[LogRecord, ...]:
        """Every log entry read (event, security and power event logs), oldest first: which
        log a device files an alert in is not fixed by the domain."""
        return tuple(sorted((*self.event_log, *self.security_log, *self.power_log),
                            key=lambda r: r.timestamp))

    @property
    def clock_drift_s(self) -> float | None:
        """Device clock minus bench clock, in seconds; None when the clock was not observed
        (never a zero that would pass a clock check that was not made)."""
        if self.device_time is None:
            return None
        return (self.device_time - self.read_at).total_seconds()
