"""TRI-DIAG-01's reads of the device clock: its offset, and its rate by the vernier.

The rate comes from reads taken around the changes of the device's seconds value, each at a
different phase of the device's second, every one bounding when the device took it (after the
request's last byte landed, before its answer's first byte left: the probe's line times), all
fitted at once (:mod:`harness.triage.clock_fit`). A read the host held up only loosens its own
bounds; no read is ever trusted beyond what the line allows.
"""

from __future__ import annotations

import datetime
import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass

from harness.plugin.device import Dut
from harness.triage.clock_fit import ClockRead, RateFit, SteadyClocks

GOLDEN = (math.sqrt(5) - 1) / 2
"""Each edge is approached at the next phase of this sequence: evenly spread, never repeating."""
BURST_TRIPS = 2
"""A change known to within this many read round trips gets one placed read, else a burst."""
PINNED_WIDTHS = 1.5
OPEN_MAX_S = 6.0
"""An opened window reads on (placed reads) until the next change is known to this many read
widths, or for this long: the start of the window pinned, what comes between counts fully.
Reads much later than this no longer pin the start: a read k seconds after the first change
helps a window closed at T only if within resolution * (T - k) - reaction of the change
(benchmarks/_phase_bound.py), nothing from about 7 s on for the 27 s a 9600 Bd line needs."""
GUESS_PPM = 10_000.0
GUESS_SPAN_S = 4.0
"""Until the reads span this long, a change is looked for where a clock within GUESS_PPM of
the bench's would make it, if any of the steady clocks the reads allow is one: a quartz
clock's rate (the fault catalogue's worst drift is 8000 ppm), where otherwise the first
changes could be anywhere a clock off by half or double allows. Where reads go only: the
fit never sees the guess, and a clock outside it costs a few reads, never a verdict."""
LIKELY_PPM = 100.0
"""A read is aimed where the device's second most likely turns, a quartz clock being most
likely within about this of the bench's rate (clock_fit.SteadyClocks.likely_edge)..."""
AIM_WITHIN = 0.35
"""...but never outside the middle of where it can turn: whatever the clock, each read leaves
at most 1 - AIM_WITHIN of that span (a wrong aim costs a few reads, never a verdict)."""


@dataclass
class ClockLink:
    """What the sampler needs of a bench: the clock read, bench time, a wait in bench
    seconds, the probe's line times of the last read (``mark`` then ``wire``), the bench
    times at which its request went to the port and its answer had come in (``stamps``;
    None where unknown, then the call's own start and end bound it) and its count of
    repeated requests (after one, an answer may be an earlier request's)."""

    read: Callable[[], datetime.datetime]
    now: Callable[[], float]
    wait: Callable[[float], None]
    mark: Callable[[], None] = lambda: None
    wire: Callable[[], tuple[float, float]] = lambda: (0.0, 0.0)
    errors: Callable[[], int] = lambda: 0
    stamps: Callable[[], tuple[float | None, float | None]] = lambda: (None, None)


class _Reads:
    """The reads so far, each with its line-time bounds and with the round trip's alone."""

    def __init__(self, link: ClockLink) -> None:
        self.link = link
        self.tight: list[ClockRead] = []
        self.loose: list[ClockRead] = []
        self.trips: list[float] = []
        self.out = 0.0  # the last request's time on the line
        self._last_request: float | None = None
        self._last_errors = 0
        self._clocks: dict[str, SteadyClocks] = {}  # per list, of its reads so far

    def take(self) -> int:
        """One read: the whole second it showed (POSIX seconds)."""
        link = self.link
        link.mark()
        errors = link.errors()
        request = link.now()
        value = link.read()
        answered = link.now()
        out, back = link.wire()
        sent, heard = link.stamps()
        self.out = out
        shown = math.floor(value.timestamp())
        since = request
        if errors != self._last_errors and self._last_request is not None:
            # The link repeated a request since the read before began: a late answer to that
            # read (or to what came between) may have been taken for this one's.
            since, out, sent = self._last_request, 0.0, None
        self._last_request, self._last_errors = request, errors
        self.trips.append(answered - request)
        self.loose.append(ClockRead(shown, since, answered))
        # At the port: the request's bytes went out no sooner, the answer was in no later,
        # than the read's call began and ended (a stamp outside the call is not trusted).
        begun = sent if sent is not None and since <= sent <= answered else since
        done = heard if heard is not None and begun <= heard <= answered else answered
        earliest, latest = begun + out, done - back
        self.tight.append(ClockRead(shown, earliest, latest) if earliest <= latest
                          else ClockRead(shown, since, answered))
        return shown

    def clocks(self, which: str = "tight") -> SteadyClocks:
        """The steady clocks the reads so far allow, by their line-time bounds (``tight``) or
        their round trips' (``loose``): worked out once per read, asked several times."""
        reads: list[ClockRead] = getattr(self, which)
        known = self._clocks.get(which)
        if known is None or len(known.reads) != len(reads):
            known = self._clocks[which] = SteadyClocks(list(reads))
        return known

    def fit(self) -> RateFit:
        """The rate every read allows (line-time bounds; the round trips' if those do not fit
        a steady clock); rate NaN and uncertainty infinite when nothing steady fits."""
        found = self.clocks().rate() or self.clocks("loose").rate()
        if found is not None:
            return found
        return RateFit(math.nan, math.inf, self.loose[-1].latest - self.loose[0].earliest)

    def trip(self) -> float:
        """A typical read round trip (bench seconds)."""
        return statistics.median(self.trips[-9:])

    def edge_range(self, shown: int, periods: tuple[float, float] | None = None
                   ) -> tuple[float, float] | None:
        """When the change to ``shown`` can be, as every steady clock the reads allow says
        (of those with a period in ``periods``, if given; by the line-time bounds, the round
        trips' where no steady clock fits those)."""
        return (self.clocks().edge_range(shown, periods)
                or self.clocks("loose").edge_range(shown, periods))

    def expected(self, shown: int) -> tuple[float, float] | None:
        """Where to look for the change to ``shown``: early on, as a clock within GUESS_PPM
        would make it if the reads allow one (GUESS_SPAN_S), else as they all allow."""
        if self.loose[-1].latest - self.loose[0].earliest < GUESS_SPAN_S:
            guess = (1 / (1 + GUESS_PPM * 1e-6), 1 / (1 - GUESS_PPM * 1e-6))
            found = self.edge_range(shown, guess)
            if found is not None:
                return found
        return self.edge_range(shown)

    def aim(self, shown: int, low: float, high: float) -> float:
        """Where a read's bounds should centre to learn most of the change to ``shown``,
        which is known to lie within ``low``..``high``: where it most likely is, kept to the
        middle of that span (AIM_WITHIN), after the read's own width."""
        if high - low <= 2 * self.width():  # a read cuts it to its own width either way
            return (low + high) / 2
        likely = self.clocks().likely_edge(shown, LIKELY_PPM)
        if likely is None:
            return (low + high) / 2
        margin = AIM_WITHIN * (high - low - self.width()) + self.width() / 2
        return min(max(likely, low + margin), high - margin)

    def stopped(self, limit_s: float) -> bool:
        """Whether the device showed its latest second across over ``limit_s`` bench seconds:
        from the last bound of the first read showing it to the first bound of the latest
        (reads the link held up or repeated only shorten that span; they never fake it)."""
        last = self.loose[-1]
        first = next(r for r in self.loose if r.shown == last.shown)
        return last.earliest - first.latest > limit_s

    def width(self) -> float:
        """A typical read's width: how long after its first bound it can have been taken."""
        return statistics.median(r.latest - r.earliest for r in self.tight[-9:])


class ClockWindow:
    """TRI-DIAG-01's reads of one device: opened (the first change of the seconds value
    pinned) before the stage's other reads, which then fill the window, and closed once the
    rate is known well enough. Reads in between are the clock's alone; nothing else is
    trusted for its timing."""

    def __init__(self, link: ClockLink, limit_s: float = 3.0) -> None:
        self.reads = _Reads(link)
        self.link = link
        self.limit_s = limit_s
        self.target = 0  # the next change of the seconds value to place reads at
        self.approach = 0

    def open(self) -> bool:
        """Read until the seconds value changes, then pin the window's start with reads
        around the next changes (bursts while a change is known only roughly); False when
        the clock stopped."""
        reads = self.reads
        first = reads.take()
        while reads.take() == first:  # the first change: read after read
            if reads.stopped(self.limit_s):
                return False
        self.target = reads.tight[-1].shown + 1
        while reads.fit().span_s < OPEN_MAX_S:  # until the next change is pinned to a read
            found = reads.edge_range(self.target)
            if found is not None and found[1] - found[0] <= PINNED_WIDTHS * reads.width():
                break
            if not self._next():
                return False
        return True

    def close(self, window_s: float, resolution_ppm: float, max_window_s: float) -> RateFit | None:
        """Read on until the window is at least ``window_s`` bench seconds and the rate known
        to ``resolution_ppm``, or ``max_window_s`` passed; None when the clock stopped."""
        while True:
            fit = self.reads.fit()
            span = fit.span_s
            if span >= max_window_s or (span >= window_s
                                        and fit.uncertainty_ppm <= resolution_ppm):
                return fit
            if not self._next():
                return None

    def _next(self) -> bool:
        """Reads at the next change still ahead: a burst while it is known only roughly, else
        one read aimed where it most likely is (:meth:`_Reads.aim`: an old value raises its
        lower bound to the read's first bound, a new one lowers its upper bound to the read's
        last, either way cutting at least AIM_WITHIN of its span); False when the clock
        stopped."""
        reads, link = self.reads, self.link
        self.approach += 1
        found = reads.expected(self.target)
        while found is not None and found[1] < link.now() + reads.out:  # already behind us
            self.target += 1
            found = reads.expected(self.target)
        if found is None or found[1] - found[0] > BURST_TRIPS * reads.trip():
            low = found[0] if found is not None else link.now()
            lead = reads.trip() * (1 + (self.approach * GOLDEN) % 1)
            pause = low - lead - link.now()
            if pause > 0:
                link.wait(pause)
            while reads.take() < self.target:
                if reads.stopped(self.limit_s):
                    return False
        else:
            low, high = found
            pause = reads.aim(self.target, low, high) - reads.width() / 2 - reads.out - link.now()
            if pause > 0:
                link.wait(pause)
            reads.take()
            if reads.stopped(self.limit_s):
                return False
        self.target += 1
        return True


def sample_rate(link: ClockLink, window_s: float, resolution_ppm: float,
                max_window_s: float, limit_s: float = 3.0) -> RateFit | None:
    """The device clock's rate over at least ``window_s`` bench seconds, lengthened while its
    uncertainty is above ``resolution_ppm``, up to ``max_window_s``; None when reads show the
    device kept one seconds value for over ``limit_s`` bench seconds (a stopped clock)."""
    window = ClockWindow(link, limit_s)
    if not window.open():
        return None
    return window.close(window_s, resolution_ppm, max_window_s)


def _link(dut: Dut) -> ClockLink:
    """The clock reads of ``dut`` through its profile, timed by its bench and probe."""
    bench = dut.slot.bench
    profile = dut.profile()
    probe = dut.slot.instrument("optical") if "optical" in dut.config.instruments else None
    mark: Callable[[], None] = getattr(probe, "mark_wire", lambda: None)
    wire: Callable[[], tuple[float, float]] = getattr(probe, "wire_times", lambda: (0.0, 0.0))
    probe_stamps: Callable[[], tuple[float | None, float | None]] = getattr(
        probe, "wire_stamps", lambda: (None, None))

    def stamps() -> tuple[float | None, float | None]:
        """The probe's monotonic stamps of the last read, in bench seconds."""
        sent, heard = probe_stamps()
        return (None if sent is None else bench.seconds_at(sent),
                None if heard is None else bench.seconds_at(heard))

    return ClockLink(profile.read_clock, bench.seconds, bench.wait, mark, wire,
                     lambda: int(getattr(probe, "link_errors", 0)), stamps)


def longest_window(max_window_s: float, time_scale: float) -> float:
    """TRI-DIAG-01's cap on its window in bench seconds: ``max_window_s``, and on a fast
    bench as many seconds of wall time. A read's width there is the host's round trip, which
    the scale does not shorten (in bench seconds it grows with the scale), so a cap in the
    device's seconds would end the window before the host's reads could tell the rate."""
    return max_window_s * max(1.0, time_scale)


def open_clock_window(dut: Dut) -> None:
    """Open TRI-DIAG-01's window now, so that the stage's other reads pass inside it (kept
    in the record's notes; a stopped clock is kept as such)."""
    if "clock_window" in dut.record.notes:
        return
    window = ClockWindow(_link(dut))
    with dut.profile().session():
        dut.record.notes["clock_window"] = window if window.open() else None


def clock_rate(dut: Dut, window_s: float, resolution_ppm: float = 0.0,
               max_window_s: float = 0.0) -> RateFit | None:
    """TRI-DIAG-01's rate of the device clock against the bench's, in bench seconds (which
    pass as fast as the device's own on a fast emulated bench), in the window
    :func:`open_clock_window` opened (or one opened now); None: the clock stopped."""
    open_clock_window(dut)
    window = dut.record.notes.pop("clock_window")
    if window is None:
        return None
    with dut.profile().session():
        return window.close(window_s, resolution_ppm, max_window_s)


def clock_offset(dut: Dut) -> float:
    """The device clock minus the bench's UTC, in seconds, read once (TRI-DIAG-01)."""
    bench, profile = dut.slot.bench, dut.profile()
    with profile.session():
        before = bench.seconds()
        reading = profile.read_clock()
        after = bench.seconds()
    at = bench.utc_now() - datetime.timedelta(seconds=bench.seconds() - (before + after) / 2)
    return (reading - at).total_seconds()
