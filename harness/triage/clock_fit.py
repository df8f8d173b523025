"""TRI-DIAG-01's clock rate from many reads: every rate a steady clock could have run at.

Each read of the device clock says which whole second it showed and the bench-time interval
in which the device took it (after the request's last byte landed, before its answer's first
byte left). A steady clock turns to second ``v`` at bench time ``E + (v - v0) * P`` (``P``:
bench seconds per device second); each read bounds that line from both sides. The rates
``1/P - 1`` of every line that fits all reads are the answer: their midpoint and half-width.
Reads at different phases of the device's second (a vernier) narrow the interval far below a
single read's round trip, which a line of 9600 Bd (tens of milliseconds) needs.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass

_P_RANGE = (0.5, 2.0)
"""Bench seconds per device second searched: a clock off by more than this is no clock."""


@dataclass(frozen=True)
class ClockRead:
    """One read: the whole second the device showed and when (bench seconds) it took it."""

    shown: int
    earliest: float
    latest: float


@dataclass(frozen=True)
class RateFit:
    """The device clock's rate against the bench's (ppm, negative when slow), with the
    half-width of the rates that fit every read, over ``span_s`` bench seconds of reads."""

    rate_ppm: float
    uncertainty_ppm: float
    span_s: float


def _binding(reads: Iterable[ClockRead]) -> list[tuple[int, float, float]]:
    """Per second shown, the latest earliest and the earliest latest: the only bounds that
    can bind (the others are implied by them)."""
    bounds: dict[int, tuple[float, float]] = {}
    for read in reads:
        low, high = bounds.get(read.shown, (-math.inf, math.inf))
        bounds[read.shown] = (max(low, read.earliest), min(high, read.latest))
    return [(shown, low, high) for shown, (low, high) in sorted(bounds.items())]


class _Lines:
    """The steady clocks that fit a set of reads, as the feasible (E, P) of each edge line.

    The edge to second ``first + k`` can be no earlier than ``lower(p, k) = L(p) + k p`` and
    no later than ``upper(p, k) = U(p) + k p``, with L the maximum of one line per second
    shown (convex) and U the minimum of another (concave): both piecewise linear, so every
    extreme lies where one of them bends, found exactly rather than searched for."""

    def __init__(self, reads: list[ClockRead]) -> None:
        self.origin = min(r.earliest for r in reads)
        self.first = min(r.shown for r in reads)
        self.rows = [(shown - self.first, low - self.origin, high - self.origin)
                     for shown, low, high in _binding(reads)]
        self._low = _Envelope((-(row + 1), low) for row, low, _ in self.rows)
        self._high = _Envelope((row, -high) for row, _, high in self.rows)  # U, negated

    def slack(self, p: float) -> float:
        """How far the tightest upper bound on E sits above the tightest lower one at P=p."""
        return self.upper(p, 0) - self.lower(p, 0)

    def lower(self, p: float, k: int) -> float:
        """The earliest the edge to second ``first + k`` can be at P=p (convex in p)."""
        return self._low(p) + k * p

    def upper(self, p: float, k: int) -> float:
        """The latest the edge to second ``first + k`` can be at P=p (concave in p)."""
        return k * p - self._high(p)

    def periods(self) -> tuple[float, float] | None:
        """The feasible P, or None when no steady clock fits: where the slack (concave,
        linear between the bends of L and U) is not negative."""
        lo, hi = _P_RANGE
        at = sorted({*self._low.within(lo, hi), *self._high.within(lo, hi)})
        slack = [self.slack(p) for p in at]
        feasible = [i for i, s in enumerate(slack) if s >= 0]
        if not feasible:
            return None
        first, last = feasible[0], feasible[-1]
        p_min = at[first] if first == 0 else _crossing(at, slack, first - 1, first)
        p_max = at[last] if last == len(at) - 1 else _crossing(at, slack, last + 1, last)
        return p_min, p_max

    def earliest(self, k: int, p_min: float, p_max: float) -> float:
        """The earliest the edge to second ``first + k`` can be for any P in [p_min, p_max]."""
        return min(self.lower(p, k) for p in self._low.within(p_min, p_max))

    def latest(self, k: int, p_min: float, p_max: float) -> float:
        """The latest the edge to second ``first + k`` can be for any P in [p_min, p_max]."""
        return max(self.upper(p, k) for p in self._high.within(p_min, p_max))


class _Envelope:
    """The upper envelope of lines ``y = slope * p + intercept``: their maximum, a convex
    piecewise-linear function of p, kept as its lines left to right and where they meet."""

    def __init__(self, lines: Iterable[tuple[float, float]]) -> None:
        hull: list[tuple[float, float]] = []
        for line in sorted(lines):
            if hull and hull[-1][0] == line[0]:  # parallel: only the higher can be the max
                hull.pop()
            while len(hull) >= 2 and _meet(hull[-2], line) <= _meet(hull[-2], hull[-1]):
                hull.pop()
            hull.append(line)
        self.lines = hull
        self.bends = [_meet(a, b) for a, b in itertools.pairwise(hull)]

    def __call__(self, p: float) -> float:
        slope, intercept = self.lines[bisect.bisect_left(self.bends, p)]
        return slope * p + intercept

    def within(self, a: float, b: float) -> list[float]:
        """``a``, ``b`` and every p strictly between them where the envelope bends."""
        inside = self.bends[bisect.bisect_right(self.bends, a):bisect.bisect_left(self.bends, b)]
        return [a, *inside, b]


def _meet(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Where two lines of different slopes cross."""
    return (a[1] - b[1]) / (b[0] - a[0])


def _crossing(at: list[float], slack: list[float], outside: int, inside: int) -> float:
    """Where the slack, linear between ``at[outside]`` (negative) and ``at[inside]`` (not),
    crosses zero."""
    a, b = at[outside], at[inside]
    x = a + (b - a) * slack[outside] / (slack[outside] - slack[inside])
    return min(max(x, min(a, b)), max(a, b))


def _feasible(reads: list[ClockRead]) -> tuple[_Lines, tuple[float, float]] | None:
    """The reads' lines and their feasible P; None for fewer than two reads or none fits."""
    if len(reads) < 2:
        return None
    lines = _Lines(reads)
    periods = lines.periods()
    return None if periods is None else (lines, periods)


class SteadyClocks:
    """Every steady clock that fits a set of reads, worked out once and asked what the sampler
    needs (the rate, where a change can be, where it most likely is): a sampler asks all
    three of the same reads before its next read."""

    def __init__(self, reads: list[ClockRead]) -> None:
        self.reads = reads
        self._found = _feasible(reads)

    def rate(self) -> RateFit | None:
        """Every steady rate the reads allow, as midpoint and half-width; None when no steady
        clock fits them all (it jumped, stopped, or a read's bounds were wrong)."""
        if self._found is None:
            return None
        lines, (p_min, p_max) = self._found
        fast, slow = 1 / p_min - 1, 1 / p_max - 1  # fewer bench seconds per tick: a fast clock
        span = max(r.latest for r in self.reads) - lines.origin
        return RateFit((fast + slow) / 2 * 1e6, (fast - slow) / 2 * 1e6, span)

    def edge_range(self, shown: int, periods: tuple[float, float] | None = None
                   ) -> tuple[float, float] | None:
        """The earliest and latest bench time the device's clock can turn to ``shown``, as
        every steady clock that fits the reads says (those of a period within ``periods``, if
        given: bench seconds per device second); None when none fits."""
        if self._found is None:
            return None
        lines, (p_min, p_max) = self._found
        if periods is not None:
            p_min, p_max = max(p_min, periods[0]), min(p_max, periods[1])
            if p_min > p_max:
                return None
        k = shown - lines.first
        return (lines.origin + lines.earliest(k, p_min, p_max),
                lines.origin + lines.latest(k, p_min, p_max))

    def likely_edge(self, shown: int, spread_ppm: float, points: int = 12) -> float | None:
        """Where the device's clock most likely turns to ``shown``: the median of that time
        over every steady clock the reads allow, each rate weighted by how far a quartz clock
        is likely to be off (Cauchy, half-width ``spread_ppm``) and by the phases it leaves
        open. An aim for reads only: the fit never uses it. None when no steady clock fits."""
        if self._found is None:
            return None
        lines, (p_min, p_max) = self._found
        k = shown - lines.first
        slow, fast = 1 / p_max - 1, 1 / p_min - 1
        spread = spread_ppm * 1e-6
        rates = {slow + (fast - slow) * i / points for i in range(points + 1)}
        rates.update(r * spread for r in (-2, -1, -0.5, 0, 0.5, 1, 2) if slow < r * spread < fast)
        ordered = sorted(rates)
        parts: list[tuple[float, float, float]] = []
        for i, rate in enumerate(ordered):
            p = 1 / (1 + rate)
            low, high = lines.lower(p, k), lines.upper(p, k)
            step = (ordered[min(i + 1, len(ordered) - 1)] - ordered[max(i - 1, 0)]) / 2
            if high >= low:
                parts.append((low, high,
                              (step or 1.0) * (high - low) / (1 + (rate / spread) ** 2)))
        total = sum(w for _, _, w in parts)
        if not parts or total <= 0:
            return None
        a, b = min(p[0] for p in parts), max(p[1] for p in parts)
        for _ in range(24):  # the weighted mixture of uniform spans: its median by bisection
            m = (a + b) / 2
            below = sum(w * min(1.0, max(0.0, (m - lo) / (hi - lo))) if hi > lo
                        else w * (m >= lo) for lo, hi, w in parts)
            a, b = (m, b) if below < total / 2 else (a, m)
        return lines.origin + (a + b) / 2


def fit_rate(reads: list[ClockRead]) -> RateFit | None:
    """Every steady rate the reads allow (:meth:`SteadyClocks.rate`)."""
    return SteadyClocks(reads).rate()


def edge_range(reads: list[ClockRead], shown: int,
               periods: tuple[float, float] | None = None) -> tuple[float, float] | None:
    """When the device's clock can turn to ``shown`` (:meth:`SteadyClocks.edge_range`)."""
    return SteadyClocks(reads).edge_range(shown, periods)


def likely_edge(reads: list[ClockRead], shown: int, spread_ppm: float,
                points: int = 12) -> float | None:
    """Where the device's clock most likely turns to ``shown`` (:meth:`SteadyClocks.
    likely_edge`)."""
    return SteadyClocks(reads).likely_edge(shown, spread_ppm, points)
