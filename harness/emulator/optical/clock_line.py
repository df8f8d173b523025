"""A device clock read over a half-duplex optical line, in virtual time: TRI-DIAG-01's
sampler (test_suites.clock) run against a line whose request, reaction and answer times are a
9600 Bd meter's, in no time at all, for its tests and ``benchmarks/clock_window.py``."""

from __future__ import annotations

import datetime
import random

EPOCH = datetime.datetime(2026, 12, 5, tzinfo=datetime.UTC)
"""The device's second 0: what it shows at bench time ``-phase``."""


class ClockLine:
    """Bench time and a device clock read over a half-duplex line: a request of ``out_s``
    on the line, the device's reaction (it takes its clock when the request has landed),
    an answer of ``back_s``; the host adds up to ``host_s`` per read, and holds the reads
    numbered in ``held`` up by ``held_s`` after the device answered."""

    def __init__(self, rate_ppm: float = 0.0, *, out_s: float = 0.0135, back_s: float = 0.031,
                 reaction_s: float = 0.02, host_s: float = 0.002, phase: float = 0.37,
                 held: frozenset[int] = frozenset(), held_s: float = 0.3, stopped: bool = False,
                 seed: int = 1) -> None:
        self.t = 0.0
        self.period = 1 / (1 + rate_ppm * 1e-6)
        self.out_s, self.back_s, self.reaction_s = out_s, back_s, reaction_s
        self.host_s, self.phase, self.held, self.held_s = host_s, phase, held, held_s
        self.stopped = stopped
        self.rng = random.Random(seed)
        self.reads = 0

    def now(self) -> float:
        """Bench seconds (virtual)."""
        return self.t

    def wait(self, seconds: float) -> None:
        """A wait on the bench: virtual time moves on at once."""
        self.t += seconds

    def read(self) -> datetime.datetime:
        """One read of the clock: the time passes that the line and the meter take."""
        self.t += self.rng.uniform(0, self.host_s / 2) + self.out_s
        taken = 0.0 if self.stopped else self.t
        self.t += self.reaction_s + self.back_s + self.rng.uniform(0, self.host_s / 2)
        if self.reads in self.held:
            self.t += self.held_s
        self.reads += 1
        return EPOCH + datetime.timedelta(seconds=int((taken + self.phase) / self.period))

    def cycle(self) -> float:
        """The shortest read cycle the line allows: a request, the reaction, an answer."""
        return self.out_s + self.reaction_s + self.back_s

    def wire(self) -> tuple[float, float]:
        """The request's and the answer's line times: what a probe knows of its baud."""
        return self.out_s, self.back_s
