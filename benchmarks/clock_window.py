"""TRI-DIAG-01's window against its floor, on a virtual 9600 Bd line: where the time goes.

The sampler (test_suites/clock.py) reads a device clock over ``ClockLine``
(harness/emulator/optical/clock_line.py): a request of 13.5 ms on the line, the meter's
20 ms reaction, an answer of 31 ms and up to 2 ms of the host's, in virtual time, so a
thousand windows take seconds. stage_floor.py counts the window's floor as reaction /
resolution: both ends of the window pinned as tightly as a read can pin them (an old read
landing on the change, a new one a reaction after it). This prints, for clocks at random
rates and phases, medians of:

- the window's span against that floor, and the floor that also counts learning where the
  device's second turns (benchmarks/_phase_bound.py; the wait for the first change, up to a
  second, is in the span but not in that floor);
- when the first read came that bounds a change from above within ``--near`` ms of the best a
  read can (the reaction) and from below within ``--near`` ms of the change: until then the
  sampler is learning where the device's second turns, which one read per change can only
  halve (the device shows whole seconds);
- the span when ``--gap`` seconds of other reads (TRI-DIAG-02's logs) pass inside the window
  after it opened, as in the triage.

Run: python benchmarks/clock_window.py [--clocks 60] [--spread-ppm 3000] [--gap 19]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _phase_bound import window_floor_s

from harness.emulator.optical.clock_line import EPOCH, ClockLine
from harness.triage.clock_fit import ClockRead
from harness.triage.spec import default_spec
from test_suites.clock import ClockLink, ClockWindow

_CLAUSE = default_spec().clause("TRI-DIAG-01")  # harness/triage/spec.yaml
WINDOW_S, RESOLUTION_PPM, MAX_WINDOW_S = (float(_CLAUSE.number(name)) for name in
                                         ("window_s", "resolution_ppm", "max_window_s"))


def first_near(line: ClockLine, reads: list[ClockRead], near_s: float) -> float:
    """When the sampler first had a read bounding a change from above within ``near_s`` of
    the reaction, and one from below within ``near_s`` of the change (bench seconds)."""
    zero = int(EPOCH.timestamp())

    def edge(shown: int) -> float:  # the bench time the device turned to ``shown``
        return (shown - zero) * line.period - line.phase

    above = next((r.latest for r in reads
                  if r.latest - edge(r.shown) <= line.reaction_s + near_s), float("inf"))
    below = next((r.latest for r in reads
                  if edge(r.shown + 1) - r.earliest <= near_s), float("inf"))
    return max(above, below)


def one(rate_ppm: float, phase: float, seed: int, gap_s: float, near_s: float
        ) -> tuple[float, float, bool]:
    """One window: its span, when its reads first pinned a change, whether the true rate lies
    within the fit."""
    line = ClockLine(rate_ppm, phase=phase, seed=seed)
    window = ClockWindow(ClockLink(line.read, line.now, line.wait, wire=line.wire))
    window.open()
    line.wait(gap_s)
    fit = window.close(WINDOW_S, RESOLUTION_PPM, MAX_WINDOW_S)
    assert fit is not None
    inside = abs(fit.rate_ppm - rate_ppm) <= fit.uncertainty_ppm
    return fit.span_s, first_near(line, window.reads.tight, near_s), inside


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clocks", type=int, default=60)
    parser.add_argument("--spread-ppm", type=float, default=3000.0,
                        help="clock rates drawn uniformly within plus or minus this")
    parser.add_argument("--gap", type=float, default=19.0,
                        help="seconds of other reads inside the window (0: none)")
    parser.add_argument("--near", type=float, default=3.0, help="ms: a read near the best")
    args = parser.parse_args()
    line = ClockLine()
    floor = line.reaction_s / (RESOLUTION_PPM * 1e-6)
    rng = random.Random(5)
    clocks = [(rng.uniform(-args.spread_ppm, args.spread_ppm), rng.random(), seed)
              for seed in range(args.clocks)]
    phased = window_floor_s(line.cycle(), line.reaction_s, RESOLUTION_PPM)
    print(f"{args.clocks} clocks within ±{args.spread_ppm:g} ppm; 9600 Bd, reaction 20 ms; "
          f"floor (reaction / {RESOLUTION_PPM:g} ppm) {floor:.1f} s; with the phase no sampler "
          f"learns sooner for half of all phases (benchmarks/_phase_bound.py) {phased:.1f} s "
          "after the first change")
    for gap in sorted({0.0, args.gap}):
        rows = [one(rate, phase, seed, gap, args.near / 1000) for rate, phase, seed in clocks]
        span = statistics.median(r[0] for r in rows)
        pinned = statistics.median(r[1] for r in rows)
        print(f"  {gap:4.1f} s of other reads inside: span {span:5.1f} s = {span / floor:.2f}x "
              f"the floor; a change first pinned within {args.near:g} ms at {pinned:4.1f} s; "
              f"true rate within the fit {sum(r[2] for r in rows)}/{len(rows)}")


if __name__ == "__main__":
    main()
