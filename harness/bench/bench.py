"""The Bench: a bench file brought to life, its instruments opened under the bench lock.

Closing (or leaving the ``with`` block, by an error, Ctrl-C, SIGTERM or SIGHUP) puts the
supplies and relays in their safe state first, under a signal shield, then every other
instrument, before releasing the lock: principle 5 of DESIGN.md.
"""

from __future__ import annotations

import datetime
import functools
import logging
import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, Self, TypeVar, overload

from harness.bench import safety
from harness.bench.lock import BenchLock
from harness.config.models import BenchConfig, SlotConfig
from harness.config.secrets import resolve_references, resolve_secret
from harness.devices.profile import AccessGate, DeviceProfile, load_profile
from harness.drivers.base import Instrument
from harness.drivers.power.base import PowerChannel, PowerSupply
from harness.errors import BenchConfigError, UnsafeStateError
from harness.protocols.installcode import InstallCode
from harness.registry import load_backend

log = logging.getLogger("meterbench.bench")

T = TypeVar("T", bound=Instrument)

SAFETY_FIRST_KINDS = ("power", "relay")
"""Instrument kinds whose safe state protects the DUT and people: reached before any other."""


@dataclass(frozen=True)
class Slot:
    """A device slot on an open bench: its configuration and the instruments serving it."""

    name: str
    config: SlotConfig
    bench: Bench

    @property
    def device_type(self) -> str:
        """The GBCS device type name of the DUT in this slot."""
        return self.config.device_type.name

    @property
    def power(self) -> PowerChannel:
        """The supply channel feeding this slot."""
        ref = self.config.instruments.get("power")
        if ref is None:
            raise BenchConfigError(
                f"slot {self.name!r} names no power instrument",
                key_path=f"slots.{self.name}.instruments.power",
                file=self.bench.source,
            )
        supply = self.bench.instrument(ref.instrument, PowerSupply)
        return supply.channel(ref.channel)

    def secrets(self) -> dict[str, str]:
        """The slot's secrets, resolved now (never stored in the bench file, never logged)."""
        base = Path(self.bench.source).parent if self.bench.source != "<bench>" else None
        return {
            key: resolve_secret(
                ref, key_path=f"slots.{self.name}.secrets.{key}", base=base,
                emulator=functools.partial(self.bench.emulated_secret, self.name, key),
                file=self.bench.source if base is not None else None,
            )
            for key, ref in self.config.secrets.items()
        }

    def profile(self, *, device_id: str | None = None,
                install_code: InstallCode | str | None = None,
                gate: AccessGate | None = None, name: str | None = None) -> DeviceProfile:
        """The slot's device profile (the reference one talks through the optical probe);
        ``device_id``/``install_code``: what the device's label says, for a profile that
        addresses the device by them (e.g. ``duis``, through the DCC); ``gate``: the run's
        access gate (without one the profile refuses every destructive operation); ``name``:
        another of the slot's profiles (its ``profiles``), as a device's catalogue entry says."""
        if name is not None and name not in self.config.all_profiles:
            raise BenchConfigError(
                f"slot {self.name!r} does not run profile {name!r}",
                key_path=f"slots.{self.name}.profiles", file=self.bench.source,
                expected=f"{name!r} among the slot's profiles ("
                         + ", ".join(self.config.all_profiles) + ")")
        cls = load_profile(name or self.config.profile)
        profile = cls.for_slot(self, device_id=device_id, install_code=install_code)
        profile.gate = gate
        profile.label_device_id = device_id
        return profile

    def instrument(self, role: str) -> Instrument:
        """The instrument serving this slot in ``role`` (``power``, ``optical``, ...)."""
        ref = self.config.instruments.get(role)
        if ref is None:
            raise BenchConfigError(
                f"slot {self.name!r} has no instrument for {role!r}",
                key_path=f"slots.{self.name}.instruments.{role}",
                file=self.bench.source,
            )
        return self.bench.instrument(ref.instrument)


SPIN_S = 0.0005
"""Wall seconds at the end of a bench wait spent awake (see :func:`precise_sleep`)."""


def precise_sleep(seconds: float) -> None:
    """Sleep ``seconds`` of wall time, the last SPIN_S of it awake: a plain sleep wakes 0.1-0.2
    ms late on a Linux host, which on a fast bench is a clock read's width or more, so a read
    placed at a change of the device's seconds landed past it."""
    end = time.monotonic() + seconds
    if seconds > SPIN_S:
        time.sleep(seconds - SPIN_S)
    while time.monotonic() < end:
        pass


class _BenchClock(Protocol):
    """What the bench reads of an emulated bench's clock (harness.emulator.world.clock)."""

    def now(self) -> float: ...

    def at_monotonic(self, t: float) -> float | None: ...

    def utc(self, t: float) -> datetime.datetime: ...


class Bench:
    """An open bench; build it with :meth:`open` (or use it as a context manager)."""

    def __init__(self, config: BenchConfig, addresses: dict[str, str] | None = None,
                 *, source: str = "<bench>") -> None:
        self.config = config
        self.source = source
        self.addresses = dict(addresses or {})
        self.lock = BenchLock(config.bench.name)
        self.instruments: dict[str, Instrument] = {}
        # Set by the emulated bench: the emulated device's own secrets ("emulator:" refs).
        self.emulated_secret: Callable[[str, str], str | None] = lambda slot, key: None
        # The bench's clock: the wall's, or an emulated bench's (emulated time, which runs
        # ``time_scale`` times faster in fast mode, as its devices' clocks do).
        self.clock: _BenchClock | None = None

    @property
    def name(self) -> str:
        """The bench's name (and its lock's)."""
        return self.config.bench.name

    @property
    def time_scale(self) -> float:
        """Emulated seconds per wall second: 1 on a physical bench, more in fast mode."""
        return self.config.bench.time_scale

    def seconds(self) -> float:
        """Monotonic bench seconds: device time's pace (scaled on a fast emulated bench)."""
        return self.clock.now() if self.clock is not None else time.monotonic()

    def seconds_at(self, monotonic: float) -> float | None:
        """Bench seconds at the instant ``time.monotonic()`` read ``monotonic`` (a driver's
        stamp); None when the bench's clock does not follow the monotonic one."""
        return self.clock.at_monotonic(monotonic) if self.clock is not None else monotonic

    def utc_now(self) -> datetime.datetime:
        """The bench's UTC, against which a device clock is read (TRI-DIAG-01)."""
        if self.clock is not None:
            return self.clock.utc(self.clock.now())
        return datetime.datetime.now(datetime.UTC)

    def wait(self, seconds: float) -> None:
        """Wait ``seconds`` of device time (shorter in fast mode, as the devices run faster),
        on time: TRI-DIAG-01 places reads at the device's second changes with it."""
        precise_sleep(seconds / self.time_scale)

    def open(self, *, purpose: str = "", only: Collection[str] | None = None) -> Self:
        """Take the lock, then create and open every instrument (or only those of the kinds
        in ``only``, e.g. to make a bench safe); undo all on any failure."""
        self.lock.acquire(purpose)
        safety.bench_opened()  # from now on SIGTERM/SIGHUP unwind like Ctrl-C
        try:
            for name, inst_cfg in self.config.instruments.items():
                if only is not None and inst_cfg.kind not in only:
                    continue
                address = self.addresses.get(name) or inst_cfg.address
                if not address:
                    raise BenchConfigError(
                        "emulated instrument has no address: start the emulated bench first",
                        file=self.source,
                        key_path=f"instruments.{name}",
                    )
                cls = load_backend(inst_cfg.kind, inst_cfg.backend)
                secrets = self._secrets(name)
                # Only a backend whose options name secrets is handed them: a third-party
                # backend with the plain (name, config, address) signature keeps working.
                extra = {"secrets": secrets} if secrets else {}
                instrument = cls(name, inst_cfg, address, **extra)
                if inst_cfg.emulated:  # its device runs at the bench's pace: so do its waits
                    instrument.time_scale = self.time_scale
                self.instruments[name] = instrument
                instrument.open()
        except BaseException:
            self.close()
            raise
        return self

    def _secrets(self, name: str) -> dict[str, str]:
        """The secret references among instrument ``name``'s options, resolved for its driver
        (which never resolves one itself); an emulated instrument's ``emulator:`` ones are
        answered by the emulated bench."""
        config = self.config.instruments[name]
        base = Path(self.source).parent if self.source != "<bench>" else None
        emulator = functools.partial(self.emulated_secret, name) if config.emulated else None
        return resolve_references(config.options, key_path=f"instruments.{name}.options",
                                  base=base, emulator=emulator,
                                  file=self.source if base is not None else None)

    def _safety_first(self) -> list[tuple[str, Instrument]]:
        """The open supplies and relays, in the order they were opened."""
        return [(name, inst) for name, inst in self.instruments.items()
                if inst.kind in SAFETY_FIRST_KINDS]

    def close(self) -> None:
        """Safe state on every instrument, disconnect, release the lock; safe to call twice.

        Supplies and relays reach their safe state first, then every instrument is closed
        (the others before the supplies), all under a signal shield; one close failing or
        interrupted never stops the others. Errors are raised after, the lock released: an
        interrupt (``KeyboardInterrupt``) first, else one ``UnsafeStateError`` naming all.
        """
        failures: list[tuple[str, BaseException]] = []
        try:
            with safety.shield():
                _each(self._safety_first(), lambda inst: inst.safe_state(), failures)
                closing = list(reversed(self.instruments.items()))
                self.instruments.clear()
                _each(closing, lambda inst: inst.close(), failures)
        finally:
            if self.lock.held:
                self.lock.release()
                safety.bench_closed()
        _raise_after(failures, self.name)

    def safe_state(self) -> None:
        """Bring every open instrument to its safe state without closing anything: supplies
        and relays first, under a signal shield; every one is tried, errors raised after."""
        failures: list[tuple[str, BaseException]] = []
        with safety.shield():
            first = self._safety_first()
            _each(first, lambda inst: inst.safe_state(), failures)
            rest = [(n, i) for n, i in self.instruments.items() if (n, i) not in first]
            _each(rest, lambda inst: inst.safe_state(), failures)
        _raise_after(failures, self.name)

    def __enter__(self) -> Self:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @overload
    def instrument(self, name: str) -> Instrument: ...

    @overload
    def instrument(self, name: str, kind: type[T]) -> T: ...

    def instrument(self, name: str, kind: type[Instrument] = Instrument) -> Instrument:
        """An open instrument by name, checked to be of the expected kind."""
        try:
            instrument = self.instruments[name]
        except KeyError:
            raise BenchConfigError(f"no instrument named {name!r}", file=self.source,
                                   key_path=f"instruments.{name}") from None
        if not isinstance(instrument, kind):
            raise BenchConfigError(f"instrument {name!r} is not a {kind.__name__}",
                                   file=self.source, key_path=f"instruments.{name}.kind")
        return instrument

    @property
    def power(self) -> PowerSupply:
        """The bench's (first) power supply."""
        for instrument in self.instruments.values():
            if isinstance(instrument, PowerSupply):
                return instrument
        raise BenchConfigError("the bench has no power instrument", file=self.source,
                               key_path="instruments")

    def slots(self) -> dict[str, Slot]:
        """Every device slot, by name."""
        return {name: Slot(name, cfg, self) for name, cfg in self.config.slots.items()}

    def slot(self, name: str) -> Slot:
        """One device slot by name."""
        if name not in self.config.slots:
            raise BenchConfigError(f"no slot named {name!r}", file=self.source,
                                   key_path=f"slots.{name}")
        return Slot(name, self.config.slots[name], self)


def _each(instruments: Iterable[tuple[str, Instrument]], act: Callable[[Instrument], None],
          failures: list[tuple[str, BaseException]]) -> None:
    """``act`` on every instrument; a failure (an interrupt included) is kept, not raised."""
    for name, instrument in instruments:
        try:
            act(instrument)
        except BaseException as exc:  # the next instrument must still be made safe
            failures.append((name, exc))
            log.error("instrument %s not left safe: %s", name, exc or type(exc).__name__)


def _raise_after(failures: list[tuple[str, BaseException]], bench: str) -> None:
    """Raise what went wrong once every instrument was tried: an interrupt or exit first."""
    for _name, exc in failures:
        if not isinstance(exc, Exception):
            raise exc
    if failures:
        text = "; ".join(f"{name}: {exc}" for name, exc in failures)
        raise UnsafeStateError(text, bench=bench) from failures[0][1]
