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

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

_P_RANGE = (0.5, 2.0)
"""Bench seconds per device second searched: a clock off by more than this is no clock."""
_STEPS = 80  # bisection and ternary steps: far below a microsecond of P


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
    """The steady clocks that fit a set of reads, as the feasible (E, P) of each edge line."""

    def __init__(self, reads: list[ClockRead]) -> None:
        self.origin = min(r.earliest for r in reads)
        self.first = min(r.shown for r in reads)
        self.rows = [(shown - self.first, low - self.origin, high - self.origin)
                     for shown, low, high in _binding(reads)]

    def slack(self, p: float) -> float:
        """How far the tightest upper bound on E sits above the tightest lower one at P=p."""
        return self.upper(p, 0) - self.lower(p, 0)

    def lower(self, p: float, k: int) -> float:
        """The earliest the edge to second ``first + k`` can be at P=p (convex in p)."""
        return max(low + (k - row - 1) * p for row, low, _ in self.rows)

    def upper(self, p: float, k: int) -> float:
        """The latest the edge to second ``first + k`` can be at P=p (concave in p)."""
        return min(high + (k - row) * p for row, _, high in self.rows)

    def periods(self) -> tuple[float, float] | None:
        """The feasible P, or None when no steady clock fits."""
        lo, hi = _P_RANGE
        peak = _extreme(self.slack, lo, hi, highest=True)
        if self.slack(peak) < 0:
            return None
        p_min = _root(self.slack, lo, peak) if self.slack(lo) < 0 else lo
        p_max = _root(self.slack, hi, peak) if self.slack(hi) < 0 else hi
        return p_min, p_max


def _feasible(reads: list[ClockRead]) -> tuple[_Lines, tuple[float, float]] | None:
    """The reads' lines and their feasible P; None for fewer than two reads or none fits."""
    if len(reads) < 2:
        return None
    lines = _Lines(reads)
    periods = lines.periods()
    return None if periods is None else (lines, periods)


def fit_rate(reads: list[ClockRead]) -> RateFit | None:
    """Every steady rate the reads allow, as midpoint and half-width; None when no steady
    clock fits them all (it jumped, stopped, or a read's bounds were wrong)."""
    found = _feasible(reads)
    if found is None:
        return None
    lines, (p_min, p_max) = found
    fast, slow = 1 / p_min - 1, 1 / p_max - 1  # fewer bench seconds per tick: a fast clock
    span = max(r.latest for r in reads) - lines.origin
    return RateFit((fast + slow) / 2 * 1e6, (fast - slow) / 2 * 1e6, span)


def edge_range(reads: list[ClockRead], shown: int) -> tuple[float, float] | None:
    """The earliest and latest bench time the device's clock can turn to ``shown``, as every
    steady clock that fits the reads says; None when none fits."""
    found = _feasible(reads)
    if found is None:
        return None
    lines, (p_min, p_max) = found
    k = shown - lines.first
    at = _extreme(lambda p: lines.lower(p, k), p_min, p_max, highest=False)
    until = _extreme(lambda p: lines.upper(p, k), p_min, p_max, highest=True)
    return lines.origin + lines.lower(at, k), lines.origin + lines.upper(until, k)


def _extreme(f: Callable[[float], float], a: float, b: float, *, highest: bool) -> float:
    """Where a concave (``highest``) or convex ``f`` peaks on [a, b] (ternary search)."""
    sign = 1.0 if highest else -1.0
    for _ in range(_STEPS):
        m1, m2 = a + (b - a) / 3, b - (b - a) / 3
        if sign * f(m1) < sign * f(m2):
            a = m1
        else:
            b = m2
    return (a + b) / 2


def _root(slack: Callable[[float], float], outside: float, inside: float) -> float:
    """Where ``slack`` crosses zero between an infeasible and a feasible P (bisection)."""
    for _ in range(_STEPS):
        middle = (outside + inside) / 2
        if slack(middle) < 0:
            outside = middle
        else:
            inside = middle
    return inside
