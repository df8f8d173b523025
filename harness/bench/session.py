"""Bring a bench file up for a run: start its emulated instruments (if any), then open it.

Shared by the command line and the pytest plugin so both treat a bench the same way: an
all-emulated bench is private to its process (its lock name carries the pid), a bench with
real hardware is locked by name.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Self

from pydantic import ValidationError

from harness.bench import safety
from harness.bench.bench import Bench
from harness.bench.lock import BenchLock
from harness.config.loader import default_bench_path, load_bench
from harness.config.models import BenchConfig, BenchInfo
from harness.errors import BenchConfigError, BenchLockedError

if TYPE_CHECKING:
    from harness.emulator.bench import EmulatedBench

_private = itertools.count(1)


class BenchSession:
    """A bench file, its emulator (when it has emulated instruments) and the open Bench."""

    def __init__(self, config: BenchConfig, *, source: str = "<bench>") -> None:
        self.config = config
        self.source = source
        self.emulator: EmulatedBench | None = None
        self.bench: Bench | None = None
        self.lock: BenchLock | None = None  # a lease taken before opening (see lease())

    @classmethod
    def from_file(cls, path: str | Path | None = None) -> Self:
        """Load a bench file (the default emulated bench when ``path`` is None)."""
        path = Path(path) if path else default_bench_path()
        return cls(load_bench(path), source=str(path))

    @classmethod
    def lease(cls, paths: Sequence[str | Path | None], start: int = 0, purpose: str = ""
              ) -> Self:
        """The first free bench of ``paths``, tried from ``start`` round: its lock is taken now.

        How several workers share a lab's benches: each takes a different one through the
        bench lock. An all-emulated bench is private, so every caller gets its own.
        """
        busy = []
        for i in range(len(paths)):
            session = cls.from_file(paths[(start + i) % len(paths)])
            if session.private:
                return session
            lock = BenchLock(session.config.bench.name)
            try:
                lock.acquire(purpose=purpose)
            except BenchLockedError as exc:
                busy.append(str(exc))
                continue
            session.lock = lock
            return session
        raise BenchLockedError("no free bench: " + "; ".join(busy))

    def fast(self, scale: float) -> None:
        """Run in fast mode (emulated benches only): checked as if the bench file said so."""
        real = sorted(n for n, i in self.config.instruments.items() if not i.emulated)
        if scale != 1.0 and (real or not self.config.instruments):
            raise BenchConfigError(
                f"fast mode (time scale {scale:g}) needs an all-emulated bench"
                + (f"; real instrument(s): {', '.join(real)}" if real else ""),
                file=self.source, key_path="bench.time_scale")
        try:
            info = BenchInfo.model_validate(
                {**self.config.bench.model_dump(), "time_scale": scale})
        except ValidationError as exc:
            raise BenchConfigError(f"time scale {scale:g}: {exc.errors()[0]['msg']}",
                                   file=self.source, key_path="bench.time_scale") from None
        self.config = self.config.model_copy(update={"bench": info})

    @property
    def private(self) -> bool:
        """True when every instrument is emulated: nothing is shared, so nothing to contend."""
        insts = self.config.instruments.values()
        return bool(insts) and all(i.emulated for i in insts)

    def start_emulator(self, command_log: str | Path | None = None) -> EmulatedBench | None:
        """Start the emulated instruments, once; ``command_log``: a file where the emulated
        supplies and relays append every command they receive."""
        if self.emulator is None and self.config.emulated:
            # Imported only here: a physical bench never loads the emulator.
            from harness.emulator.bench import EmulatedBench
            from harness.emulator.power.scpi import CommandLog
            from harness.emulator.world.clock import Clock, ScaledClock

            scale = self.config.bench.time_scale
            clock = ScaledClock(scale) if scale != 1.0 else Clock()
            log = CommandLog(command_log) if command_log is not None else None
            self.emulator = EmulatedBench(self.config, clock=clock, command_log=log,
                                          source=self.source).start()
        return self.emulator

    def open(self, purpose: str = "") -> Bench:
        """Start the emulator if needed and open the bench under its lock."""
        if self.bench is not None:
            return self.bench
        emulator = self.start_emulator()
        bench = Bench(self.config, emulator.addresses if emulator else None, source=self.source)
        if self.private:  # nothing shared: a lock name of its own, never contended
            bench.lock = BenchLock(f"{self.config.bench.name}.{os.getpid()}.{next(_private)}")
        elif self.lock is not None:  # leased already: the open bench holds that lock
            bench.lock = self.lock
        if emulator is not None:
            bench.emulated_secret = emulator.secret
            bench.clock = emulator.clock  # the devices' time: bench and device clocks agree
        bench.open(purpose=purpose)
        self.bench = bench
        return bench

    def close(self) -> None:
        """Safe state and close the bench, then stop the emulator; safe to call twice.

        All under a signal shield: the emulator (whose supplies switch off as it stops) is
        stopped only once the bench is safe, even when closing the bench failed.
        """
        with safety.shield():
            try:
                if self.bench is not None:
                    bench, self.bench = self.bench, None
                    bench.close()
            finally:
                try:
                    if self.emulator is not None:
                        emulator, self.emulator = self.emulator, None
                        emulator.stop()
                finally:
                    if self.lock is not None:  # a lease never opened is given back too
                        self.lock.release()

    def __enter__(self) -> Self:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
