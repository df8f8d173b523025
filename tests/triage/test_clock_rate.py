"""TRI-DIAG-01's clock rate: every steady clock the reads allow (harness.triage.clock_fit),
sampled around the changes of the seconds value at spread phases (test_suites.clock), on a
simulated link whose reads take line and reaction times as a 9600 Bd optical port does."""

from __future__ import annotations

import datetime
import random
import time

import pytest

from harness.bench.bench import SPIN_S, precise_sleep
from harness.emulator.optical.clock_line import EPOCH, ClockLine
from harness.triage.clock_fit import ClockRead, fit_rate
from test_suites.clock import ClockLink, ClockWindow, _Reads, longest_window, sample_rate


def _link(line: ClockLine, *, line_times: bool = True) -> ClockLink:
    """The sampler's link to the line, with its line times (the probe knows its baud) or
    without them (the round trip alone)."""
    if line_times:
        return ClockLink(line.read, line.now, line.wait, wire=line.wire)
    return ClockLink(line.read, line.now, line.wait)


@pytest.mark.parametrize("rate_ppm", [0.0, 100.0, 4000.0, -2000.0, 50_000.0, -30_000.0])
def test_the_true_rate_lies_within_the_fit_and_the_fit_reaches_the_resolution(
        rate_ppm: float) -> None:
    line = ClockLine(rate_ppm)
    fit = sample_rate(_link(line), window_s=10, resolution_ppm=1000, max_window_s=60)
    assert fit is not None
    assert abs(fit.rate_ppm - rate_ppm) <= fit.uncertainty_ppm
    assert fit.uncertainty_ppm <= 1000 and 10 <= fit.span_s < 60


def test_looking_where_a_quartz_clock_would_turn_shortens_the_window(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The early guess (GUESS_PPM) only places reads: for clocks within it, the window
    closes sooner than when the first changes are looked for wherever any clock allows."""
    import test_suites.clock as sampler

    rng = random.Random(3)
    clocks = [(rng.uniform(-1000, 1000), rng.random(), seed) for seed in range(20)]

    def median_span() -> float:
        spans = []
        for rate, phase, seed in clocks:
            fit = sample_rate(_link(ClockLine(rate, phase=phase, seed=seed)), 10, 1000, 120)
            assert fit is not None and abs(fit.rate_ppm - rate) <= fit.uncertainty_ppm <= 1000
            spans.append(fit.span_s)
        return sorted(spans)[len(spans) // 2]

    guessed = median_span()
    monkeypatch.setattr(sampler, "GUESS_SPAN_S", 0.0)  # no guess: any clock's changes
    assert guessed < median_span() - 1.0


def test_aiming_where_a_quartz_clock_most_likely_turns_shortens_the_window(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Reads aimed at the likeliest change (LIKELY_PPM, kept to the middle: AIM_WITHIN)
    close the window of healthy clocks a second or more sooner than reads at the middle of
    where the change can be; a clock far off (8000, 50000 ppm) is still measured within the
    fit, its window no more than a second longer."""
    import test_suites.clock as sampler

    def spans(spread_ppm: float) -> list[float]:
        rng = random.Random(3)
        found = []
        for seed in range(20):
            rate = rng.uniform(-spread_ppm, spread_ppm)
            fit = sample_rate(_link(ClockLine(rate, phase=rng.random(), seed=seed)),
                              10, 1000, 120)
            assert fit is not None and abs(fit.rate_ppm - rate) <= fit.uncertainty_ppm <= 1000
            found.append(fit.span_s)
        return sorted(found)

    def median(values: list[float]) -> float:
        return values[len(values) // 2]

    aimed = {spread: spans(spread) for spread in (100.0, 8000.0, 50_000.0)}
    monkeypatch.setattr(sampler, "AIM_WITHIN", 0.5)  # always the middle of the span
    middle = {spread: spans(spread) for spread in (100.0, 8000.0, 50_000.0)}
    assert median(aimed[100.0]) <= median(middle[100.0]) - 1.0
    for spread in (8000.0, 50_000.0):
        assert median(aimed[spread]) <= median(middle[spread]) + 1.0


def test_the_likeliest_change_lies_where_the_reads_allow() -> None:
    """likely_edge is within edge_range, near a bench-rate clock's change when that fits,
    and None when no steady clock fits the reads."""
    from harness.triage.clock_fit import edge_range, likely_edge

    line = ClockLine(0.0, phase=0.37)
    reads = _Reads(_link(line))
    first = reads.take()
    while reads.take() == first:
        pass
    for _ in range(3):
        line.wait(0.9)
        reads.take()
    target = reads.tight[-1].shown + 2
    low, high = edge_range(reads.tight, target)
    likely = likely_edge(reads.tight, target, 100.0)
    assert likely is not None and low <= likely <= high
    true_edge = (target - int(EPOCH.timestamp())) * line.period - line.phase
    assert abs(likely - true_edge) < (high - low) / 2
    jumped = [ClockRead(5, 0.0, 0.01), ClockRead(5, 3.0, 3.01)]  # one second held for 3 s
    assert likely_edge(jumped, 6, 100.0) is None


def test_line_times_narrow_the_window_a_9600_baud_line_needs() -> None:
    """A read's round trip (about 66 ms here) alone needs over a minute for 1000 ppm; the
    request's and answer's line times leave only the reaction (20 ms) to bound."""
    with_times = sample_rate(_link(ClockLine()), 10, 1000, 120)
    round_trips = sample_rate(_link(ClockLine(), line_times=False), 10, 1000, 120)
    assert with_times is not None and round_trips is not None
    assert with_times.uncertainty_ppm <= 1000 and with_times.span_s <= 55
    assert round_trips.span_s > 1.5 * with_times.span_s
    assert abs(round_trips.rate_ppm) <= round_trips.uncertainty_ppm  # still true, only wider


def test_reads_the_host_held_up_only_loosen_their_own_bounds() -> None:
    line = ClockLine(4000.0, held=frozenset(range(3, 400, 7)))
    fit = sample_rate(_link(line), 10, 1000, 60)
    assert fit is not None and abs(fit.rate_ppm - 4000.0) <= fit.uncertainty_ppm


def test_a_stopped_clock_has_no_rate() -> None:
    assert sample_rate(_link(ClockLine(stopped=True)), 10, 1000, 60) is None


def test_reads_no_steady_clock_fits_give_no_fit() -> None:
    reads = [ClockRead(100, 0.0, 0.01), ClockRead(101, 1.0, 1.01), ClockRead(100, 2.0, 2.01)]
    assert fit_rate(reads) is None
    assert fit_rate(reads[:1]) is None


def test_the_fit_is_every_rate_the_bounds_allow() -> None:
    """Two changes 10 s apart, each known to within 20 ms: P lies in [0.998, 1.002] bench
    seconds per device second, so the rate is 0 +/- 2000 ppm, no tighter and no wider."""
    reads = [ClockRead(0, 0.99, 0.99), ClockRead(1, 1.0, 1.01),
             ClockRead(10, 10.99, 10.99), ClockRead(11, 11.0, 11.01)]
    fit = fit_rate(reads)
    assert fit is not None
    assert fit.rate_ppm == pytest.approx(4.0, abs=1)
    assert fit.uncertainty_ppm == pytest.approx(2000.0, rel=0.001)


def test_a_link_losing_reads_is_no_stopped_clock() -> None:
    """Answers the link holds up for 3.5 s (a port repeating its frames) come back showing a
    second taken long before: over 3 s passed between reads of one value, yet the device
    took them well within a second of each other, so its clock ran."""
    line = ClockLine(held=frozenset(range(1, 400, 3)), held_s=3.5)
    fit = sample_rate(_link(line), 10, 1000, 60)
    assert fit is not None and abs(fit.rate_ppm) <= fit.uncertainty_ppm


def test_a_window_opened_before_other_work_is_filled_by_it() -> None:
    """Opened before the stage's other reads (here 20 s of them), the window needs only a few
    reads after them to know the rate: the work between counts toward it."""
    line = ClockLine(4000.0)
    window = ClockWindow(_link(line))
    assert window.open()
    opened = line.reads
    line.wait(20.0)  # the logs are read meanwhile (no clock read)
    before = line.reads
    fit = window.close(10, 1000, 60)
    assert fit is not None and abs(fit.rate_ppm - 4000.0) <= fit.uncertainty_ppm <= 1000
    assert fit.span_s < 40 and line.reads - before < 3 * opened


def test_a_read_after_a_repeated_request_is_bounded_from_the_read_before() -> None:
    """Once the link repeated a request, the next answer may be an earlier request's: that
    read's lower bound is the previous read's request, without line times."""
    line = ClockLine()
    errors = iter([0, 0, 1, 1])
    link = ClockLink(line.read, line.now, line.wait, wire=line.wire, errors=lambda: next(errors))
    reads = _Reads(link)
    for _ in range(4):
        reads.take()
    first, second, third, fourth = reads.tight
    assert third.earliest == reads.loose[1].earliest  # the second read's request, no margin
    assert fourth.earliest > third.latest  # errors unchanged since: its own, with margin
    assert second.earliest > first.latest


def test_a_fast_bench_window_lasts_until_the_hosts_reads_can_tell() -> None:
    """At x100 a read's width is the host's round trip times 100 in bench seconds (here up
    to 0.3 s): 60 bench seconds cannot tell a 2000 ppm clock from a good one to 1000 ppm, so
    the cap is 60 s of wall time, and the clock is found faulty as in real time."""
    def line() -> ClockLine:
        return ClockLine(2000.0, out_s=0.0, back_s=0.0, reaction_s=0.0, host_s=0.3, seed=3)

    capped = sample_rate(_link(line(), line_times=False), 10, 1000, 60)
    assert capped is not None and capped.uncertainty_ppm > 1000
    assert longest_window(60, 100) == 6000 and longest_window(60, 1) == 60
    fit = sample_rate(_link(line(), line_times=False), 10, 1000, longest_window(60, 100))
    assert fit is not None and fit.uncertainty_ppm <= 1000
    assert fit.rate_ppm - 100 > fit.uncertainty_ppm  # beyond the tolerance: a clock fault


class _Stamped:
    """A link whose host work around each read (``host_s`` before the request goes to the
    port and after the answer is in) is no time of the device's: the port's stamps say when
    the bytes went and came (``offset_s`` moves them, to stamp outside the call)."""

    def __init__(self, host_s: float = 0.005, port_s: float = 0.002,
                 offset_s: float = 0.0) -> None:
        self.t, self.host_s, self.port_s, self.offset_s = 0.0, host_s, port_s, offset_s
        self.sent = self.heard = 0.0

    def read(self) -> datetime.datetime:
        self.t += self.host_s
        self.sent = self.t
        taken = self.t + self.port_s / 2
        self.t += self.port_s
        self.heard = self.t
        self.t += self.host_s
        return EPOCH + datetime.timedelta(seconds=int(taken))

    def link(self) -> ClockLink:
        return ClockLink(self.read, lambda: self.t, lambda s: None,
                         stamps=lambda: (self.sent - self.offset_s, self.heard + self.offset_s))


def test_the_ports_stamps_bound_a_read_and_stamps_outside_the_call_are_not_trusted() -> None:
    """A read bounded by its port's stamps is as wide as the exchange at the port (2 ms),
    not the call around it (12 ms); stamps outside the call (a stale or misread stamp) are
    not trusted, so the call bounds the read."""
    stamped = _Reads(_Stamped().link())
    stamped.take()
    read = stamped.tight[0]
    assert (read.earliest, read.latest) == pytest.approx((0.005, 0.007))
    assert stamped.loose[0].latest - stamped.loose[0].earliest == pytest.approx(0.012)
    outside = _Reads(_Stamped(offset_s=0.01).link())
    outside.take()
    assert outside.tight[0] == outside.loose[0]


def test_after_a_repeated_request_the_request_stamp_is_not_trusted() -> None:
    """Once the link repeated a request, the answer may be an earlier request's: the read's
    lower bound is the read before's start, whatever the port stamped."""
    line = _Stamped()
    errors = iter([0, 1])
    link = ClockLink(line.read, lambda: line.t, lambda s: None, stamps=line.link().stamps,
                     errors=lambda: next(errors))
    reads = _Reads(link)
    reads.take()
    reads.take()
    assert reads.tight[1].earliest == reads.loose[0].earliest == 0.0
    assert reads.tight[1].latest == pytest.approx(0.019)  # the port's answer stamp holds


def test_a_placed_reads_wait_never_ends_early() -> None:
    """A bench wait (the one before a placed read) sleeps, then spins its last SPIN_S: it may
    not end before its time (the read would land on the wrong side of its change), whatever the
    length, zero included."""
    for seconds in (0.0, SPIN_S / 3, SPIN_S, 0.002, 0.004) * 10:
        start = time.monotonic()
        precise_sleep(seconds)
        assert time.monotonic() - start >= seconds
