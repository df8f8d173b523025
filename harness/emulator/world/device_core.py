"""The engine under every emulated device: time, power, boots, commits and the current drawn.

Time is the emulator clock's.  Boots, commits to non-volatile memory and watchdog resets
happen when the clock passes them, evaluated lazily at each call (``_tick``), so a test on a
manual clock is exactly reproducible and no thread is needed.  Operations change a RAM copy
of the device state that is committed ``commit_s`` after the first change; a power cut before
that drops it (GB-SMART-METERING.md leaves the timing to the model).
"""

from __future__ import annotations

import abc
import datetime
import functools
import random
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Concatenate, ParamSpec, TypeVar

from harness.domain.types import DeviceType
from harness.emulator.world.catalogue import DeviceModel, model_for
from harness.emulator.world.clock import Clock
from harness.emulator.world.faults import SEEN_BY_EYE, Fault, FaultSet, stable_seed
from harness.emulator.world.logs import LogEntry
from harness.emulator.world.power_model import HAN_BURST, PowerProfile, Pulse
from harness.emulator.world.rtc import RealTimeClock
from harness.emulator.world.state import PersistentState
from harness.errors import OperationError
from harness.protocols.gbcs_alerts import GbcsAlert

D = TypeVar("D", bound="DeviceCore")
P = ParamSpec("P")
R = TypeVar("R")


def reader(fn: Callable[Concatenate[D, P], R]) -> Callable[Concatenate[D, P], R]:
    """A read: under the device lock, after the clock's due events have happened."""

    @functools.wraps(fn)
    def wrapper(self: D, *args: P.args, **kwargs: P.kwargs) -> R:
        with self._lock:
            self._tick()
            return fn(self, *args, **kwargs)

    return wrapper


def operation(fn: Callable[Concatenate[D, P], R]) -> Callable[Concatenate[D, P], R]:
    """A state-changing operation: the device must be up; its writes await the next commit."""

    @functools.wraps(fn)
    def wrapper(self: D, *args: P.args, **kwargs: P.kwargs) -> R:
        with self._lock:
            self._tick()
            self._require_ready(fn.__name__)
            result = fn(self, *args, **kwargs)
            self._touch()
            return result

    return wrapper


MIN_PULSE_WALL_S = 0.08
"""The shortest actuator pulse in wall seconds on a fast (scaled) emulator clock."""


@dataclass
class PowerEvent:
    """A power transition the device noticed: "on", "off", or "watchdog" (a reset)."""

    t: float
    kind: str


SHELF_DAYS = (20.0, 120.0)
"""Days since a device's clock was last set, drawn per device (its drift shows as an offset)."""


class DeviceCore(abc.ABC):
    """Power, time and persistence; ``EmulatedDevice`` (harness.emulator.world.device) adds
    the rest."""

    def __init__(
        self,
        slot: str,
        device_type: DeviceType,
        nominal_voltage: float | None,
        seed: int,
        clock: Clock | None,
        profile: PowerProfile | None,
        model: DeviceModel | str | None,
        faults: Iterable[str | Fault],
        rtc_epoch: datetime.datetime | None,
    ) -> None:
        self.slot = slot
        self.device_type = DeviceType(device_type)
        self.model = model if isinstance(model, DeviceModel) else model_for(device_type, model)
        self.seed = seed
        self.clock = clock or Clock()
        self.profile = profile or self.model.power
        self.nominal_voltage = nominal_voltage or self.model.nominal_voltage
        self._faults = FaultSet.parse(faults, self.device_type, seed)
        self._power_events: list[PowerEvent] = []
        self._boots = 0
        self._lock = threading.RLock()
        drift = self._faults.value("clock_drift", self.model.rtc_drift_ppm)
        self.rtc = RealTimeClock(self.clock, drift, rtc_epoch)
        # The time the world keeps (what the bench's UTC clock reads): the device clock's
        # offset and field events are set against it.
        self.true_time = RealTimeClock(self.clock, 0.0, self.rtc.now())
        self._past_written = False
        self._now = self.clock.now()
        self._volts = 0.0
        self._on_since: float | None = None
        self._off_since: float | None = None
        self._outage_s = 0.0
        self._ready = False
        self._reset_cause: str | None = None
        self._boot_due: float | None = None
        self._commit_due: float | None = None
        self._watchdog_due: float | None = None
        self._samples = 0
        self._pulses: list[Pulse] = []
        self._nv = self._initial_state()
        self._ram = self._nv.copy()
        self._shelf_life()

    @property
    def seen_by_eye(self) -> tuple[str, ...]:
        """What a person inspecting the device sees wrong with it (its physical damage, in
        the inspection's words): the one thing about a device read off it rather than
        measured, as its label is."""
        return tuple(SEEN_BY_EYE[f.key] for f in self._faults if f.key in SEEN_BY_EYE)

    def _shelf_life(self) -> None:
        """A device has a past: its clock was last set weeks ago and has run at its own rate
        since, and a watchdog fault has already struck before it reached the bench."""
        rng = random.Random(stable_seed(self.seed, "shelf-life"))
        age_s = rng.uniform(SHELF_DAYS[0], SHELF_DAYS[1]) * 86400.0
        offset = datetime.timedelta(seconds=age_s * self.rtc.drift_ppm / 1e6)
        self.rtc.set(self.rtc.now() + offset)
        if "watchdog_resets" in self._faults:
            period = self._faults.value("watchdog_resets", 120.0)
            for k in (3, 2, 1):
                self._ram.logs.record(GbcsAlert.WATCHDOG_RESET,
                                      self.rtc.now() - datetime.timedelta(seconds=k * period))
            self._nv = self._ram.copy()

    @abc.abstractmethod
    def _initial_state(self) -> PersistentState:
        """The factory-fresh persistent state (the subclass knows it)."""

    # -- time and commits -----------------------------------------------------------------

    def _tick(self) -> float:
        """Let every event due by now happen, in time order; return now."""
        now = self.clock.now()
        boot, commit, watchdog = self._boot_due, self._commit_due, self._watchdog_due
        if ((boot is None or boot > now) and (commit is None or commit > now)
                and (watchdog is None or watchdog > now)):  # nothing due: every read asks
            self._now = now
            return now
        while True:
            due = [(t, name) for name, t in (("boot", self._boot_due),
                                              ("commit", self._commit_due),
                                              ("watchdog", self._watchdog_due))
                   if t is not None and t <= now]
            if not due:
                break
            t, name = min(due)
            self._now = t
            {"boot": self._on_boot, "commit": self._on_commit,
             "watchdog": self._on_watchdog}[name](t)
        self._now = now
        return now

    def _touch(self) -> None:
        """RAM changed: schedule its commit (the first change starts the countdown)."""
        if self._commit_due is None:
            self._commit_due = self._now + self.model.commit_s

    def _on_commit(self, t: float) -> None:
        self._commit_due = None
        if "memory_error" not in self._faults:  # a failing NV memory keeps nothing
            self._nv = self._ram.copy()

    @property
    def committed(self) -> bool:
        """Whether every change so far has reached non-volatile memory."""
        with self._lock:
            self._tick()
            return self._commit_due is None

    def _log(self, code: int, detail: str = "") -> LogEntry:
        entry = self._ram.logs.record(code, self.rtc.at(self._now), detail)
        self._touch()
        return entry

    # -- power -----------------------------------------------------------------------------

    @property
    def boots(self) -> int:
        """How many times the device has started (power-ons and watchdog resets)."""
        with self._lock:
            self._tick()
            return self._boots

    @property
    def power_events(self) -> list[PowerEvent]:
        """The power transitions the device noticed, oldest first."""
        with self._lock:
            self._tick()
            return list(self._power_events)

    @property
    def powered(self) -> bool:
        """Whether the device currently has supply."""
        return self._on_since is not None

    @property
    def ready(self) -> bool:
        """Whether the device has booted and is running."""
        with self._lock:
            self._tick()
            return self._ready

    def supply(self, volts: float) -> None:
        """The supply at the device's terminals changed to ``volts`` (0 when the output is off)."""
        alive = volts >= self.profile.min_voltage_ratio * self.nominal_voltage
        with self._lock:
            now = self._tick()
            self._volts = volts if alive else 0.0
            if alive and self._on_since is None:
                if not self._past_written:
                    self._past_written = True
                    self._write_past(now)
                    now = self._tick()  # writing the past takes no time of the device's own
                self._power_events.append(PowerEvent(now, "on"))
                if self._off_since is not None:
                    self._outage_s = now - self._off_since
                self._start_boot(now)
            elif not alive and self._on_since is not None:
                self._power_events.append(PowerEvent(now, "off"))
                self._power_down(now, self.model.supply_loss_code)
                self._off_since = now

    def _start_boot(self, t: float) -> None:
        self._on_since = t
        self._boots += 1
        self._boot_due = t + self.profile.settle_s

    def _power_down(self, t: float, loss_code: int | None) -> None:
        """Supply gone (or a reset): RAM and timers are lost; a supply loss is still logged."""
        self._on_since = None
        self._ready = False
        self._boot_due = self._commit_due = self._watchdog_due = None
        self._pulses.clear()
        self._ram = self._nv.copy()  # what was not committed is gone
        if loss_code is not None:  # written with the hold-up capacitor's last energy
            self._ram.logs.record(loss_code, self.rtc.at(t))
            self._on_commit(t)

    def _on_boot(self, t: float) -> None:
        self._boot_due = None
        self._ready = True
        if self._reset_cause == "watchdog":
            self._log(GbcsAlert.WATCHDOG_RESET)
        self._reset_cause = None
        if self._outage_s >= self.model.restored_after_s:
            self._log(GbcsAlert.SUPPLY_OUTAGE_RESTORED, f"outage {self._outage_s:.0f} s")
        self._outage_s = 0.0
        if "watchdog_resets" in self._faults:
            self._watchdog_due = t + self._faults.value("watchdog_resets", 120.0)
        self._booted(t)

    def _write_past(self, t: float) -> None:  # noqa: B027 - an optional hook, empty by default
        """Hook: what the device logged in service, written once, before its first power on
        on the bench (when its removal time is known)."""

    def _booted(self, t: float) -> None:  # noqa: B027 - an optional hook, empty by default
        """Hook: the checks a device makes once booted (firmware, memory, tamper...)."""

    def _on_watchdog(self, t: float) -> None:
        self._power_events.append(PowerEvent(t, "watchdog"))
        self._power_down(t, None)
        self._reset_cause = "watchdog"
        self._start_boot(t)

    def _require_ready(self, what: str) -> None:
        if not self._ready:
            state = "booting" if self._on_since is not None else "not powered"
            raise OperationError(f"{self.slot}: cannot {what.replace('_', ' ')}: device {state}",
                                 slot=self.slot, operation=what)

    # -- current ---------------------------------------------------------------------------

    def current(self) -> float:
        """The current the device draws now, in amperes."""
        with self._lock:
            now = self._tick()
            if self._on_since is None:
                return 0.0
            self._samples += 1
            self._pulses = [p for p in self._pulses if now < p.start + p.duration]
            return self.profile.current(
                now - self._on_since, self._samples, self.seed,
                silent=self._silent_radios(),
                idle_factor=self._faults.value("excessive_standby_current", 1.0),
                extra_a=sum(p.at(now) for p in self._pulses),
            )

    def _silent_radios(self) -> set[str]:
        """Bursts that do not happen (a dead radio); models add their own."""
        return {HAN_BURST} if "han_radio_dead" in self._faults else set()

    def _pulse(self, amps: float, seconds: float) -> None:
        """An operation draws ``amps`` for ``seconds`` (relay coil, valve motor).

        In fast mode a pulse still lasts ``MIN_PULSE_WALL_S`` of wall time: compressed below
        that, a supply sampler sharing the GIL with the probe's I/O could miss it, and a
        healthy actuator would read as a fault.
        """
        if amps > 0 and seconds > 0:
            seconds = max(seconds, MIN_PULSE_WALL_S * self.clock.scale) \
                if self.clock.scale > 1 else seconds
            self._pulses.append(Pulse(self._now, seconds, amps))
