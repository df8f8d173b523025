"""TRI-DIAG-01's fit (harness.triage.clock_fit) against a brute-force solution of the same
linear constraints: every pair of reads bounds P, and an edge's extremes lie where two of the
reads' lines cross. Random reads of steady clocks at random rates, some made inconsistent."""

from __future__ import annotations

import itertools
import random

import pytest

from harness.triage.clock_fit import _P_RANGE, ClockRead, _binding, edge_range, fit_rate


def brute_periods(reads: list[ClockRead]) -> tuple[float, float] | None:
    """The feasible P from every pair of rows: the edge of second ``s`` lies after the
    latest earliest bound of second ``s - 1`` and no later than the earliest latest bound of
    ``s`` (as a line E + (s - first) P)."""
    lo, hi = _P_RANGE
    rows = _binding(reads)
    for (ri, low, _), (rj, _, high) in itertools.product(rows, rows):
        d = ri + 1 - rj  # E + (ri + 1) P >= low and E + rj P <= high
        if d > 0:
            lo = max(lo, (low - high) / d)
        elif d < 0:
            hi = min(hi, (low - high) / d)
        elif low > high:
            return None
    return (lo, hi) if lo <= hi else None


def brute_edge(reads: list[ClockRead], shown: int,
               periods: tuple[float, float]) -> tuple[float, float]:
    """The edge to ``shown``'s extremes over the feasible P: at the ends or where two lines
    of the same side cross (the extremes of a max or min of lines)."""
    rows = _binding(reads)
    p_min, p_max = periods
    lows = [(shown - r - 1, low) for r, low, _ in rows]  # edge >= low + (shown - r - 1) P
    highs = [(shown - r, high) for r, _, high in rows]  # edge <= high + (shown - r) P

    def points(lines: list[tuple[int, float]]) -> list[float]:
        cross = [(b1 - b2) / (a2 - a1) for (a1, b1), (a2, b2) in itertools.combinations(lines, 2)
                 if a1 != a2]
        return [p_min, p_max, *(p for p in cross if p_min < p < p_max)]

    earliest = min(max(b + a * p for a, b in lows) for p in points(lows))
    latest = max(min(b + a * p for a, b in highs) for p in points(highs))
    return earliest, latest


def random_reads(rng: random.Random) -> list[ClockRead]:
    """Reads of a steady clock (some read shown a second off: often no steady clock fits)."""
    period = 1 / (1 + rng.uniform(-0.05, 0.05))
    phase, t, reads = rng.random(), rng.uniform(0, 5), []
    for _ in range(rng.randint(2, 80)):
        width = rng.uniform(0.001, 0.3)
        shown = int((t + rng.uniform(0, width) + phase) / period) + 1_000
        if rng.random() < 0.02:
            shown += rng.choice((-1, 1))
        reads.append(ClockRead(shown, t, t + width))
        t += width + rng.uniform(0, 0.5)
    return reads


@pytest.mark.parametrize("seed", range(6))
def test_fit_and_edge_match_brute_force(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(30):
        reads = random_reads(rng)
        periods = brute_periods(reads)
        fit = fit_rate(reads)
        assert (fit is None) == (periods is None)
        if fit is None or periods is None:
            assert edge_range(reads, reads[-1].shown + 1) is None
            continue
        p_min, p_max = periods
        fast, slow = 1 / p_min - 1, 1 / p_max - 1
        assert fit.rate_ppm == pytest.approx((fast + slow) / 2 * 1e6, abs=1e-4)
        assert fit.uncertainty_ppm == pytest.approx((fast - slow) / 2 * 1e6, abs=1e-4)
        shown = reads[-1].shown + rng.randint(-2, 3)
        found = edge_range(reads, shown)
        assert found is not None
        want = brute_edge(reads, shown, periods)
        assert found == pytest.approx(want, abs=1e-9)


def test_a_single_second_shown_leaves_the_whole_range_of_periods() -> None:
    reads = [ClockRead(7, 0.0, 0.01), ClockRead(7, 0.2, 0.21)]
    fit = fit_rate(reads)
    assert fit is not None
    assert fit.uncertainty_ppm == pytest.approx((1 / 0.5 - 1 / 2.0) / 2 * 1e6)


def test_an_edge_among_clocks_of_given_periods_is_within_the_edge_among_all() -> None:
    """Two changes a second apart, each known to 50 ms: the next change among clocks of
    period 1 +- 1% lies within (and is narrower than) the range every clock allows; periods
    no clock that fits the reads has give none."""
    reads = [ClockRead(100, 0.0, 0.05), ClockRead(101, 0.0, 0.05),  # changed within 0-50 ms
             ClockRead(101, 1.0, 1.05), ClockRead(102, 1.0, 1.05)]
    every = edge_range(reads, 103)
    quartz = edge_range(reads, 103, (1 / 1.01, 1 / 0.99))
    assert every is not None and quartz is not None
    assert every[0] <= quartz[0] < quartz[1] <= every[1]
    assert quartz[1] - quartz[0] < every[1] - every[0]
    assert edge_range(reads, 103, (1.5, 1.6)) is None
