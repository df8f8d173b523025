"""The catalogue of faults the emulator can inject, named as a returns facility names them.

A fault is never a flag a test reads: each one changes what the device does (the current it
draws, what it logs, whether it joins, what its optical port answers).  The symptoms listed
here are documentation of that behaviour.  Where one fits, a fault carries the Communications
Hub return reason of DUIS 8.14.3 (GB-SMART-METERING.md, "Communications Hub returns
vocabulary").  A fault may take one number (``clock_drift:900``); left out, the number is drawn
from the device seed, so the same seed always gives the same fault.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from harness.domain.types import DeviceType
from harness.domain.vocabulary import NO_FAULT, ChFaultReason, FaultCategory
from harness.errors import BenchConfigError

_E, _G, _C = DeviceType.ESME, DeviceType.GSME, DeviceType.CHF
_ALL = frozenset({_E, _G, _C})
_METERS = frozenset({_E, _G})


@dataclass(frozen=True)
class FaultKind:
    """One entry of the catalogue: what it is called, what it does, and where it applies."""

    key: str
    name: str
    description: str
    symptoms: tuple[str, ...]
    category: FaultCategory
    ch_return_reason: ChFaultReason | None = None
    applies_to: frozenset[DeviceType] = _ALL
    param: str | None = None  # what the fault's number means, with its unit
    low: float = 0.0  # a number drawn from the seed lies in low..high
    high: float = 0.0
    weight: float = 1.0  # relative frequency among faulty returns

    def draw(self, seed: int) -> float | None:
        """The fault's number for a device seed (None when the fault takes none)."""
        if self.param is None:
            return None
        rng = random.Random(stable_seed(seed, self.key))
        return round(rng.uniform(self.low, self.high), 4)


def stable_seed(seed: int, *labels: str) -> int:
    """A sub-seed for ``labels`` that is the same in every process (unlike ``hash``)."""
    text = ":".join(labels).encode()
    return (seed * 0x9E3779B1 + zlib.crc32(text)) & 0xFFFFFFFFFFFF


_K = FaultKind
_CAT = FaultCategory
CATALOGUE: dict[str, FaultKind] = {k.key: k for k in (
    _K("no_fault", "No fault found",
       "Nothing wrong: the commonest return.",
       ("every check passes",), _CAT.NONE, weight=0.0),
    _K("han_radio_dead", "HAN radio dead",
       "The ZigBee radio neither transmits nor receives.",
       ("no HAN radio bursts in the supply current", "joins get no response",
        "a hub admits no device"),
       _CAT.HAN, ChFaultReason.SM_HAN, weight=8),
    _K("han_join_fails", "HAN join fails with the install code",
       "The key the device derives from its install code is corrupt.",
       ("a join with the label's install code fails (0x8F48 on the hub)",),
       _CAT.HAN, ChFaultReason.SM_HAN, weight=8),
    _K("wrong_install_code_label", "Wrong install code on the label",
       "The install code printed on the label is not the device's.",
       ("a join with the label's install code fails", "the device itself is healthy"),
       _CAT.HAN, ChFaultReason.MANUFACTURING, _METERS, weight=3),
    _K("wan_modem_fault", "WAN modem fault",
       "The hub's WAN modem does not start.",
       ("modem state 'fault'", "no WAN connectivity", "no WAN bursts in the supply current"),
       _CAT.WAN, ChFaultReason.SM_WAN, frozenset({_C}), weight=6),
    _K("no_sim", "No SIM",
       "The hub's SIM is missing or unreadable.",
       ("modem state 'no SIM'", "no ICCID", "no WAN connectivity"),
       _CAT.WAN, ChFaultReason.SM_WAN, frozenset({_C}), weight=3),
    _K("weak_wan_signal", "Weak WAN signal",
       "The aerial is damaged: the modem hears the network only faintly.",
       ("RSSI far below the bench's usual level", "no or intermittent WAN connectivity"),
       _CAT.WAN, ChFaultReason.AERIAL, frozenset({_C}), "RSSI in dBm", -113.0, -106.0,
       weight=4),
    _K("optical_port_dead", "Optical port dead",
       "The optical port never answers.",
       ("no answer to an IEC 62056-21 sign-on",),
       _CAT.OPTICAL, None, _METERS, weight=5),
    _K("optical_port_intermittent", "Optical port intermittent",
       "A fraction of the optical port's frames are corrupted or dropped.",
       ("some sign-ons or reads time out or fail their BCC",),
       _CAT.OPTICAL, None, _METERS, "fraction of frames lost or corrupted", 0.1, 0.4,
       weight=4),
    _K("firmware_verification_fails", "Firmware verification fails at power on",
       "The firmware image fails its check at every power on.",
       ("0x8F1B in the security log after each power on",
        "the device refuses HAN joins, commissioning and reset"),
       _CAT.FIRMWARE, ChFaultReason.MANUFACTURING, weight=4),
    _K("memory_error", "Memory error",
       "Non-volatile memory writes fail.",
       ("0x81AE in the event log after each power on",
        "nothing written since the last power on survives a power cycle"),
       _CAT.HARDWARE, ChFaultReason.MANUFACTURING, weight=4),
    _K("watchdog_resets", "Watchdog resets",
       "The firmware hangs and the watchdog restarts the device periodically.",
       ("0x81B3 in the event log", "the supply current shows an inrush and boot each reset",
        "unsaved work is lost at each reset"),
       _CAT.HARDWARE, ChFaultReason.MANUFACTURING, param="seconds between resets",
       low=90.0, high=240.0, weight=4),
    _K("measurement_fault", "Measurement fault",
       "The metrology front end reads wrongly.",
       ("0x81AC in the event log after each power on",
        "an ESME's measured voltage far from the supply's set point"),
       _CAT.METROLOGY, None, _METERS, "ratio of measured to true voltage", 0.55, 0.8,
       weight=5),
    _K("reset_erases_registers", "Reset erases the registers",
       "A non-compliant firmware erases the cumulative energy registers with the consumer data "
       "on a reset (legal metrology: they are never reset).",
       ("the cumulative import and TOU registers read nothing after the triage reset",),
       _CAT.METROLOGY, None, _METERS, weight=1),
    _K("load_switch_stuck", "Load switch stuck",
       "The ESME load switch contacts do not move.",
       ("relay coil current on each switch command", "supply state unchanged after it"),
       _CAT.HARDWARE, None, frozenset({_E}), weight=3),
    _K("valve_stuck", "Valve stuck",
       "The GSME valve motor runs but the valve does not move.",
       ("valve motor current on each valve command", "valve state unchanged after it"),
       _CAT.HARDWARE, None, frozenset({_G}), weight=2),
    _K("excessive_standby_current", "Excessive standby current",
       "Something on the board leaks: idle current is many times normal.",
       ("idle supply current far above the model's envelope",),
       _CAT.POWER, ChFaultReason.MANUFACTURING, param="idle current multiple",
       low=12.0, high=20.0, weight=4),
    _K("tamper_cover_removed", "Tamper: cover removed",
       "The meter cover (the hub's case) has been opened.",
       ("meter cover (or tamper) alert at each power on", "tamper flag 'cover' set"),
       _CAT.TAMPER, ChFaultReason.INTERFERENCE_OR_SEALS, weight=4),
    _K("magnetic_tamper", "Tamper: magnetic field",
       "A strong magnet has been applied to the meter.",
       ("0x8F75 at each power on", "tamper flag 'magnetic' set"),
       _CAT.TAMPER, None, _METERS, weight=2),
    _K("clock_drift", "Clock drift",
       "The real-time clock runs fast or slow far beyond its crystal's tolerance.",
       ("the device's clock departs from the reference by seconds per hour",
        "clock adjustments beyond tolerance are refused (0x81C6)"),
       _CAT.HARDWARE, None, param="drift in ppm (fast)", low=2000.0, high=8000.0,
       weight=3),
    _K("label_mismatch", "Label mismatch",
       "The device reports an identity other than the one on its label.",
       ("reported EUI-64 and serial differ from the label's",),
       _CAT.TAMPER, ChFaultReason.MANUFACTURING, weight=3),
    _K("battery_low", "Battery low",
       "The gas meter's battery is nearly exhausted.",
       ("0x8F1F at power on", "low remaining battery capacity", "valve operations refused"),
       _CAT.POWER, None, frozenset({_G}), "remaining capacity fraction", 0.01, 0.08,
       weight=5),
    _K("tamper_in_service", "Tamper in service",
       "A cover was opened while the device was in service, days or weeks before any removal.",
       ("a terminal cover alert (0x8F76; a hub's tamper alert 0x8F3F) logged in service, "
        "far from the removal",),
       _CAT.TAMPER, ChFaultReason.INTERFERENCE_OR_SEALS, param="days before the removal",
       low=10.0, high=60.0, weight=3),
    _K("unexpected_resets", "Unexpected resets",
       "The device reset by itself many times a day in its last days in service: no brown-out "
       "explains the rate.",
       ("unexpected hardware resets (0x81B2) logged several times a day before the removal",),
       _CAT.HARDWARE, ChFaultReason.MANUFACTURING, param="resets per day", low=4.0,
       high=12.0, weight=3),
    _K("auth_failures_in_service", "Authentication failures in service",
       "Commands failed authentication again and again in service with no change of supplier "
       "around them: someone tried to command the device.",
       ("trusted source authentication failures (0x8F3D) repeated in the last days in "
        "service, no security credentials update (0x8F70) near them",),
       _CAT.TAMPER, ChFaultReason.INTERFERENCE_OR_SEALS, param="failures before the removal",
       low=3.0, high=10.0, weight=2),
    # Physical damage to a hub: seen by the person at the bench, nothing the hub reports shows
    # it (TRI-ID-03). Never drawn into a generated population (weight 0: generated batches are
    # unchanged); put them in a bench file, a batch's truth or a scenario.
    _K("damaged_case", "Damaged case",
       "The hub's case is cracked or holed.",
       ("the operator sees the case damaged",), _CAT.HARDWARE, ChFaultReason.DAMAGED_CASE,
       frozenset({_C}), weight=0.0),
    _K("damaged_connector", "Damaged connector",
       "The connector that seats the hub on the meter is bent or burnt.",
       ("the operator sees the connector damaged",), _CAT.HARDWARE,
       ChFaultReason.DAMAGED_CONNECTOR, frozenset({_C}), weight=0.0),
    _K("seals_broken", "Seals broken or missing",
       "The hub's seals are broken or gone (opened while unpowered: no tamper alert).",
       ("the operator sees the seals broken",), _CAT.TAMPER,
       ChFaultReason.INTERFERENCE_OR_SEALS, frozenset({_C}), weight=0.0),
    _K("led_dead", "LED dead",
       "A status LED of the hub never lights.",
       ("the operator sees a status LED dark while powered",), _CAT.HARDWARE,
       ChFaultReason.LED, frozenset({_C}), weight=0.0),
    _K("water_damage", "Water damage",
       "The hub has been wet or overheated: ingress, heat or corrosion marks.",
       ("the operator sees water, heat or corrosion marks",), _CAT.HARDWARE,
       ChFaultReason.ENVIRONMENTAL, frozenset({_C}), weight=0.0),
)}
"""Every injectable fault, by key."""

SEEN_BY_EYE: dict[str, str] = {
    "damaged_case": "case", "damaged_connector": "connector", "seals_broken": "seals",
    "led_dead": "leds", "water_damage": "environment",
}
"""Physical damage faults and the word a person inspecting the device says it with (the
words of the hub inspection prompt, harness.triage.inspection)."""

SEEN_ONLY_THROUGH_PORT = frozenset({
    "firmware_verification_fails", "memory_error", "watchdog_resets", "measurement_fault",
    "load_switch_stuck", "valve_stuck", "tamper_cover_removed", "magnetic_tamper",
    "clock_drift", "label_mismatch", "battery_low", "tamper_in_service", "unexpected_resets",
    "auth_failures_in_service", "reset_erases_registers"})
"""Faults whose evidence is read through the device's local port (logs, identity, states):
on a meter whose optical port is dead they leave nothing a bench can see. The rest show on
the supply (standby current) or over the air (HAN joins, the hub's WAN)."""

SHOWN_ONLY_IN_USE = frozenset({"reset_erases_registers"})
"""Faults that show only on a meter that has recorded energy: a reset that erases the
cumulative registers erases nothing on one that never recorded any (a return from before its
installation), and no bench could tell. A generated population draws them on field returns."""

HISTORY_FAULTS = frozenset({"tamper_in_service", "unexpected_resets", "auth_failures_in_service"})
"""Faults whose only evidence is alerts a field history also leaves (a cover opened, resets,
a failed authentication),
but out of the removal's context or beyond a brown-out's rate: the faulty counterparts of
ordinary histories (``harness.emulator.world.history``).  Generated batches draw them only
with histories on."""


@dataclass(frozen=True)
class Fault:
    """A fault injected into one device: its catalogue entry and its number, if it takes one."""

    kind: FaultKind
    value: float | None = None

    @property
    def key(self) -> str:
        """The catalogue key (what bench files and manifests write)."""
        return self.kind.key

    def spec(self) -> str:
        """The text form: ``key`` or ``key:value``."""
        return self.key if self.value is None else f"{self.key}:{self.value:g}"


class FaultSet:
    """The faults of one device (possibly none), resolved against its seed."""

    def __init__(self, faults: Iterable[Fault] = ()) -> None:
        self._faults = {f.key: f for f in faults if f.key != NO_FAULT}

    @classmethod
    def parse(cls, specs: Iterable[str | Fault], device_type: DeviceType,
              seed: int = 0) -> FaultSet:
        """Resolve ``key`` / ``key:value`` texts; each must exist and fit ``device_type``."""
        faults: list[Fault] = []
        for spec in specs:
            if isinstance(spec, Fault):
                faults.append(spec)
                continue
            key, _, number = spec.strip().partition(":")
            kind = CATALOGUE.get(key.strip())
            if kind is None:
                raise BenchConfigError(f"unknown fault {key.strip()!r}",
                                       expected="one of " + ", ".join(CATALOGUE))
            if device_type not in kind.applies_to:
                raise BenchConfigError(
                    f"fault {kind.key!r} does not apply to a {device_type.name}",
                    expected=", ".join(t.name for t in sorted(kind.applies_to)),
                )
            value = kind.draw(seed)
            if number.strip():
                if kind.param is None:
                    raise BenchConfigError(f"fault {kind.key!r} takes no number")
                try:
                    value = float(number)
                except ValueError:
                    raise BenchConfigError(f"fault {kind.key!r}: {number!r} is not a number",
                                           expected=kind.param) from None
            faults.append(Fault(kind, value))
        return cls(faults)

    def __contains__(self, key: object) -> bool:
        return key in self._faults

    def __iter__(self) -> Iterator[Fault]:
        return iter(self._faults.values())

    def __len__(self) -> int:
        return len(self._faults)

    def value(self, key: str, default: float = 0.0) -> float:
        """The number of fault ``key`` (``default`` when absent or numberless)."""
        fault = self._faults.get(key)
        return default if fault is None or fault.value is None else fault.value

    def specs(self) -> list[str]:
        """The text forms, in injection order."""
        return [f.spec() for f in self]


def faults_for(device_type: DeviceType) -> list[FaultKind]:
    """The catalogue entries that can be injected into ``device_type`` (no-fault excluded)."""
    return [k for k in CATALOGUE.values() if k.key != NO_FAULT and device_type in k.applies_to]
