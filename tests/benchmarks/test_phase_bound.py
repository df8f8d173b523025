"""benchmarks/_phase_bound.py: the least TRI-DIAG-01 window a whole-second clock allows,
checked by hand and against the strongest sampler we can build (one told the clock's rate)."""

from __future__ import annotations

import random
import statistics
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from _phase_bound import closable_share, window_floor_s

from harness.emulator.optical.clock_line import EPOCH, ClockLine
from test_suites.clock import ClockLink, ClockWindow, _Reads

REACTION, RESOLUTION = 0.020, 1000.0


def test_by_hand() -> None:
    """R 64.8 ms, w 20 ms, 1000 ppm, T = 23.35 s: phi_k = 3.35, 2.35, 1.35, 0.35 ms, so
    (2 * 3.35 + 4 * 2.35 + 8 * 1.35 + 16 * 0.35) / 64.8 = 32.5 / 64.8."""
    assert closable_share(23.35, 0.0648, REACTION, RESOLUTION) == pytest.approx(32.5 / 64.8)
    assert closable_share(20.0, 0.0648, REACTION, RESOLUTION) == 0.0
    # In whole seconds: at 23, (2 * 3 + 4 * 2 + 8 * 1) / 64.8 = 22 / 64.8 is under one half,
    # at 24, (2 * 4 + 4 * 3 + 8 * 2 + 16 * 1) / 64.8 = 52 / 64.8 is over it.
    assert closable_share(23, 0.0648, REACTION, RESOLUTION) == pytest.approx(22 / 64.8)
    assert closable_share(24, 0.0648, REACTION, RESOLUTION) == pytest.approx(52 / 64.8)
    assert window_floor_s(0.0648, REACTION, RESOLUTION) == 24.0
    assert window_floor_s(0.0648, REACTION, RESOLUTION, share=0.85) == 25.0


def test_it_grows_with_what_the_device_makes_the_sampler_learn() -> None:
    """Never under reaction / resolution; longer for a slower line or reaction, and for every
    phase than for half of them."""
    half = window_floor_s(0.0648, REACTION, RESOLUTION)
    assert half > REACTION / (RESOLUTION * 1e-6)
    assert window_floor_s(0.0648, REACTION, RESOLUTION, share=1.0) > half
    assert window_floor_s(0.2, REACTION, RESOLUTION) > half
    assert window_floor_s(0.0648, 0.2, RESOLUTION) > 200.0
    with pytest.raises(ValueError, match="cycle 0"):
        window_floor_s(0.0, REACTION, RESOLUTION)


def _first_change(line: ClockLine, reads: _Reads) -> float:
    """The bench time the device first turned its second after the window's first read."""
    zero = int(EPOCH.timestamp())
    return (reads.tight[0].shown + 1 - zero) * line.period - line.phase


def _told_the_rate(phase: float, seed: int) -> float:
    """A sampler told the clock's rate (the bench's) on a line whose host adds nothing:
    back-to-back reads to the first change, then at every change one read at the middle of
    what is left of where the device's second turns; closed by the real fit. Seconds from the
    device's first change to its last read."""
    line = ClockLine(0.0, phase=phase, seed=seed, host_s=0.0)
    reads = _Reads(ClockLink(line.read, line.now, line.wait, wire=line.wire))
    first = reads.take()
    while reads.take() == first:
        pass
    new = reads.tight[-1].shown  # the first change is in (low, high]: old read, new read
    low, high = reads.tight[-2].earliest, reads.tight[-1].earliest
    n = 1
    while True:
        fit = reads.fit()
        if fit.span_s >= 10.0 and fit.uncertainty_ppm <= RESOLUTION:
            return reads.tight[-1].latest - _first_change(line, reads)
        at = (low + high) / 2 + n * line.period - line.out_s
        if at > line.now():
            line.wait(at - line.now())
            landed = reads.take(), reads.tight[-1].earliest - n * line.period
            if landed[0] == new + n:  # taken after the change: it is no later than that
                high = landed[1]
            else:
                low = landed[1]
        n += 1


def test_no_sampler_we_can_build_beats_it() -> None:
    """The sampler told the rate and TRI-DIAG-01's own sampler, over 40 phases each: their
    median window from the first change is not under the floor for half of all phases."""
    rng = random.Random(3)
    phases = [rng.random() for _ in range(40)]
    floor = window_floor_s(ClockLine().cycle(), REACTION, RESOLUTION)
    told = [_told_the_rate(phase, seed) for seed, phase in enumerate(phases)]
    ours = []
    for seed, phase in enumerate(phases):
        line = ClockLine(0.0, phase=phase, seed=seed)
        window = ClockWindow(ClockLink(line.read, line.now, line.wait, wire=line.wire))
        window.open()
        fit = window.close(10.0, RESOLUTION, 60.0)
        assert fit is not None and abs(fit.rate_ppm) <= fit.uncertainty_ppm
        ours.append(window.reads.tight[-1].latest - _first_change(line, window.reads))
    assert statistics.median(told) >= floor
    assert statistics.median(ours) >= floor
    assert min(told + ours) >= window_floor_s(ClockLine().cycle(), REACTION, RESOLUTION, 1.0)
    assert statistics.median(told) < floor + 4.0  # the bound is not far from what is reachable
