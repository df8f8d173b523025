"""A returned device's ordinary field history: storage, its clock, and what its logs kept.

GB-SMART-METERING.md, "Returns in the real world": a returned device was removed by an
installer (terminal cover opened, supply lost), may have lived through a change of supplier
(anchor updates, one failed authentication) and brown-outs (unexpected resets), then sat in a
van or a warehouse for weeks or months.  None of it is a fault: a :class:`FieldHistory` is
what such a device carries, written into its logs and clock when the emulator builds it
(``EmulatedDevice.load_history``).  The truth of a device stays its fault catalogue entries.

In a returns manifest a history is one cell (``history``), in :meth:`FieldHistory.to_text`
form: ``storage_days=90;clock_offset_s=-7776000;clock_drift_ppm=3;events=0x8F76@90,0x8F57@90``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from harness.domain.types import DeviceType
from harness.emulator.world.faults import stable_seed
from harness.errors import BenchConfigError
from harness.protocols.gbcs_alerts import ALERTS, GbcsAlert

__all__ = [
    "CRYSTAL_TOLERANCE_PPM",
    "FieldHistory",
    "HistoryEvent",
    "draw_history",
    "parse_history",
    "removal_events",
]

CRYSTAL_TOLERANCE_PPM = 100.0
"""The rate a healthy device's clock stays within, in ppm either way (the domain page gives
none; a meter crystal keeps tens of ppm, and the catalogue's ``clock_drift`` starts at 300):
a history's drift beyond it needs the ``clock_drift`` fault, one within it must not."""

_DAY = 86400.0


def _fmt(value: float) -> str:
    """A number as the manifest writes it, exactly (``90``, ``-7776000``, ``3.5``)."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))

MAX_STORAGE_DAYS = 3650.0
"""Ten years: a longer storage is a typing mistake."""


@dataclass(frozen=True)
class HistoryEvent:
    """One alert the device logged in the field: its GBCS code, and how long before the
    return (the bench) it happened, in days."""

    code: int
    days_before_return: float

    def __post_init__(self) -> None:
        if int(self.code) not in ALERTS:
            raise BenchConfigError(f"0x{int(self.code):04X} is not a GBCS alert code "
                                   "meterbench knows", expected="a code of "
                                   "harness.protocols.gbcs_alerts (e.g. 0x8F76)")
        if not 0.0 <= self.days_before_return <= MAX_STORAGE_DAYS * 2:
            raise BenchConfigError(f"days_before_return {self.days_before_return:g} is out "
                                   "of range", expected=f"0 to {MAX_STORAGE_DAYS * 2:g}")

    def to_text(self) -> str:
        """``0x8F76@90.5``."""
        return f"0x{self.code:04X}@{_fmt(self.days_before_return)}"


@dataclass(frozen=True)
class FieldHistory:
    """What a returned device carries: days unpowered in storage, its clock's offset when it
    reaches the bench (seconds ahead, negative behind) and its rate (ppm, positive fast), and
    the alerts it logged in the field."""

    storage_days: float
    clock_offset_s: float
    clock_drift_ppm: float
    events: tuple[HistoryEvent, ...] = ()

    def __post_init__(self) -> None:
        if not 0.0 <= self.storage_days <= MAX_STORAGE_DAYS:
            raise BenchConfigError(f"storage_days {self.storage_days:g} is out of range",
                                   expected=f"0 to {MAX_STORAGE_DAYS:g}")
        if abs(self.clock_offset_s) > (MAX_STORAGE_DAYS + 365) * _DAY:
            raise BenchConfigError(f"clock_offset_s {self.clock_offset_s:g} is out of range",
                                   expected="at most about ten years either way")
        if abs(self.clock_drift_ppm) > 1e5:
            raise BenchConfigError(f"clock_drift_ppm {self.clock_drift_ppm:g} is out of range",
                                   expected="-100000 to 100000")

    @property
    def storage_s(self) -> float:
        """Seconds unpowered before the bench."""
        return self.storage_days * _DAY

    def to_text(self) -> str:
        """The manifest cell form (``parse_history`` reads it back)."""
        parts = [f"storage_days={_fmt(self.storage_days)}",
                 f"clock_offset_s={_fmt(self.clock_offset_s)}",
                 f"clock_drift_ppm={_fmt(self.clock_drift_ppm)}"]
        if self.events:
            parts.append("events=" + ",".join(e.to_text() for e in self.events))
        return ";".join(parts)


_KEYS = ("storage_days", "clock_offset_s", "clock_drift_ppm", "events")
_FORM = "storage_days=N;clock_offset_s=N;clock_drift_ppm=N[;events=0xCODE@DAYS,...]"


def _number(key: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise BenchConfigError(f"history {key}: {text!r} is not a number",
                               expected=_FORM) from None
    if value != value or value in (float("inf"), float("-inf")):
        raise BenchConfigError(f"history {key}: {text!r} is not a finite number",
                               expected=_FORM)
    return value


def _event(text: str) -> HistoryEvent:
    code, at, days = text.strip().partition("@")
    if not at or not code.lower().startswith("0x"):
        raise BenchConfigError(f"history event {text.strip()!r} is not CODE@DAYS",
                               expected="e.g. 0x8F76@90")
    try:
        value = int(code, 16)
    except ValueError:
        raise BenchConfigError(f"history event {text.strip()!r}: {code!r} is not a hex code",
                               expected="e.g. 0x8F76@90") from None
    return HistoryEvent(value, _number("event days", days))


def parse_history(text: str) -> FieldHistory:
    """Read a manifest's ``history`` cell; a bad cell raises a BenchConfigError saying why."""
    values: dict[str, str] = {}
    for part in (p for p in text.split(";") if p.strip()):
        key, eq, value = part.partition("=")
        key = key.strip()
        if not eq or key not in _KEYS:
            raise BenchConfigError(f"history: {part.strip()!r} is not one of "
                                   f"{', '.join(_KEYS)} = value", expected=_FORM)
        if key in values:
            raise BenchConfigError(f"history: {key} given twice", expected=_FORM)
        values[key] = value.strip()
    missing = [k for k in _KEYS[:3] if k not in values]
    if missing:
        raise BenchConfigError(f"history: missing {missing[0]}", expected=_FORM)
    events = tuple(_event(e) for e in values.get("events", "").split(",") if e.strip())
    return FieldHistory(_number("storage_days", values["storage_days"]),
                        _number("clock_offset_s", values["clock_offset_s"]),
                        _number("clock_drift_ppm", values["clock_drift_ppm"]), events)


def removal_events(device_type: DeviceType, storage_days: float) -> tuple[HistoryEvent, ...]:
    """What an installer's removal leaves in a device's logs: a meter's terminal cover opened
    (a hub taken off its meter: disconnected from the ESME) and its supply lost, a minute
    apart, ``storage_days`` before the return."""
    opened = storage_days + 2 / 1440
    if device_type is DeviceType.CHF:
        return (HistoryEvent(GbcsAlert.CH_DISCONNECTED_FROM_ESME, opened),
                HistoryEvent(GbcsAlert.SUPPLY_INTERRUPTED, storage_days + 1 / 1440))
    loss = (GbcsAlert.GSME_POWER_SUPPLY_LOSS if device_type is DeviceType.GSME
            else GbcsAlert.SUPPLY_INTERRUPTED)
    return (HistoryEvent(GbcsAlert.UNAUTHORISED_PHYSICAL_ACCESS_TERMINAL_COVER, opened),
            HistoryEvent(loss, storage_days + 1 / 1440))


STOPPED_CLOCK_SHARE = 0.3
"""Share of stored devices whose clock stopped at power-off (backup spent): it then reads the
power-off time on the bench, behind by the whole storage."""
BROWN_OUT_SHARE = 0.3
"""Share of returns that lived through brown-outs (one to three unexpected resets)."""
SUPPLIER_CHANGE_SHARE = 0.15
"""Share of returns that changed supplier in service (anchor updates, one failed
authentication while the new supplier's anchor was not yet in place)."""


def draw_history(device_type: DeviceType, seed: int, *, installed: bool) -> FieldHistory:
    """A realistic ordinary history for a healthy device of ``seed``: the same seed gives the
    same history.  ``installed``: returned after installation (it has removal events)."""
    rng = random.Random(stable_seed(seed, "field-history"))
    storage = round(rng.choice((rng.uniform(1, 21), rng.uniform(21, 180))), 2)
    drift = round(rng.uniform(-20.0, 20.0), 2)
    offset: float
    if rng.random() < STOPPED_CLOCK_SHARE:
        # It stopped when its backup ran out, at most ten minutes after the removal: never
        # before it (so its first events at the bench come after the removal's).
        offset = -round(storage * _DAY - rng.uniform(0, 600))
    else:  # kept running on its backup: off by what its rate made of the storage
        offset = round(drift * 1e-6 * storage * _DAY + rng.uniform(-2, 2), 1)
    events: list[HistoryEvent] = []
    if installed:
        events.extend(removal_events(device_type, storage))
        service = rng.uniform(60, 900)  # days installed before the removal
        if rng.random() < BROWN_OUT_SHARE:
            loss = (GbcsAlert.GSME_POWER_SUPPLY_LOSS if device_type is DeviceType.GSME
                    else GbcsAlert.SUPPLY_INTERRUPTED)
            for _ in range(rng.randint(1, 3)):
                # A brown-out as a device logs it: the supply dips, the device resets, the
                # supply is back within a minute (GBCS codes, half a minute apart).
                at = round(storage + rng.uniform(1, service), 4)
                events += [HistoryEvent(loss, round(at + 0.5 / 1440, 6)),
                           HistoryEvent(GbcsAlert.UNEXPECTED_HARDWARE_RESET, at),
                           HistoryEvent(GbcsAlert.SUPPLY_OUTAGE_RESTORED,
                                        round(at - 0.5 / 1440, 6))]
        if rng.random() < SUPPLIER_CHANGE_SHARE:
            at = round(storage + rng.uniform(1, service), 3)
            events.append(HistoryEvent(GbcsAlert.TRUSTED_SOURCE_AUTHENTICATION_FAILURE, at))
            events.append(HistoryEvent(GbcsAlert.UPDATE_SECURITY_CREDENTIALS,
                                       round(at - 5 / 1440, 4)))
    events.sort(key=lambda e: -e.days_before_return)
    return FieldHistory(storage, offset, drift, tuple(events))
