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


def fit_rate(reads: list[ClockRead]) -> RateFit | None:
    """Every steady rate the reads allow, as midpoint and half-width; None when no steady
    clock fits them all (it jumped, stopped, or a read's bounds were wrong)."""
    if len(reads) < 2:
        return None
    origin = min(r.earliest for r in reads)
    first = min(r.shown for r in reads)
    rows = [(shown - first, low - origin, high - origin) for shown, low, high in _binding(reads)]

    def slack(p: float) -> float:
        """How far the tightest upper bound on E sits above the tightest lower one at P=p."""
        upper = min(high - k * p for k, _, high in rows)
        lower = max(low - (k + 1) * p for k, low, _ in rows)
        return upper - lower

    lo, hi = _P_RANGE
    a, b = lo, hi
    for _ in range(_STEPS):  # slack is concave: the ternary search finds its peak
        m1, m2 = a + (b - a) / 3, b - (b - a) / 3
        if slack(m1) < slack(m2):
            a = m1
        else:
            b = m2
    peak = (a + b) / 2
    if slack(peak) < 0:
        return None
    p_min = _root(slack, lo, peak) if slack(lo) < 0 else lo
    p_max = _root(slack, hi, peak) if slack(hi) < 0 else hi
    fast, slow = 1 / p_min - 1, 1 / p_max - 1  # fewer bench seconds per tick: a fast clock
    span = max(r.latest for r in reads) - origin
    return RateFit((fast + slow) / 2 * 1e6, (fast - slow) / 2 * 1e6, span)


def _root(slack: Callable[[float], float], outside: float, inside: float) -> float:
    """Where ``slack`` crosses zero between an infeasible and a feasible P (bisection)."""
    for _ in range(_STEPS):
        middle = (outside + inside) / 2
        if slack(middle) < 0:
            outside = middle
        else:
            inside = middle
    return inside
