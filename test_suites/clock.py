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
from harness.triage.clock_fit import ClockRead, RateFit, fit_rate

GOLDEN = (math.sqrt(5) - 1) / 2
"""Each edge is approached at the next phase of this sequence: evenly spread, never repeating."""
PERIOD_KNOWN_PPM = 10_000.0
"""Below this uncertainty the fitted rate predicts the next change better than 1 s does."""


@dataclass
class ClockLink:
    """What the sampler needs of a bench: the clock read, bench time, a wait in bench
    seconds, and the probe's line times of the last read (``mark`` then ``wire``) and
    whether it has had to repeat a request (then an answer may be the read before's)."""

    read: Callable[[], datetime.datetime]
    now: Callable[[], float]
    wait: Callable[[float], None]
    mark: Callable[[], None] = lambda: None
    wire: Callable[[], tuple[float, float]] = lambda: (0.0, 0.0)
    repeated: Callable[[], bool] = lambda: False


class _Reads:
    """The reads so far, each with its line-time bounds and with the round trip's alone."""

    def __init__(self, link: ClockLink) -> None:
        self.link = link
        self.tight: list[ClockRead] = []
        self.loose: list[ClockRead] = []
        self.trips: list[float] = []
        self._last_request: float | None = None

    def take(self) -> int:
        """One read: the whole second it showed (POSIX seconds)."""
        link = self.link
        link.mark()
        request = link.now()
        value = link.read()
        answered = link.now()
        out, back = link.wire()
        shown = math.floor(value.timestamp())
        since = request
        if link.repeated() and self._last_request is not None:
            since = self._last_request  # the answer may be the previous request's
            out = 0.0
        self._last_request = request
        self.trips.append(answered - request)
        self.loose.append(ClockRead(shown, since, answered))
        earliest, latest = since + out, answered - back
        self.tight.append(ClockRead(shown, earliest, latest) if earliest <= latest
                          else ClockRead(shown, since, answered))
        return shown

    def fit(self) -> RateFit:
        """The rate every read allows (line-time bounds; the round trips' if those do not fit
        a steady clock); rate NaN and uncertainty infinite when nothing steady fits."""
        found = fit_rate(self.tight) or fit_rate(self.loose)
        if found is not None:
            return found
        return RateFit(math.nan, math.inf, self.loose[-1].latest - self.loose[0].earliest)

    def edge(self, shown: int) -> float:
        """Bench time the device's second turned to ``shown``, as the reads around it say."""
        before = [r.earliest for r in self.tight if r.shown < shown]
        after = [r.latest for r in self.tight if r.shown >= shown]
        return (max(before) + min(after)) / 2 if before and after else self.link.now()

    def trip(self) -> float:
        """A typical read round trip (bench seconds)."""
        return statistics.median(self.trips[-9:])


def sample_rate(link: ClockLink, window_s: float, resolution_ppm: float,
                max_window_s: float, limit_s: float = 3.0) -> RateFit | None:
    """The device clock's rate over at least ``window_s`` bench seconds, lengthened while its
    uncertainty is above ``resolution_ppm``, up to ``max_window_s``; None when the seconds
    value did not change within ``limit_s`` bench seconds (a stopped clock)."""
    reads = _Reads(link)
    start = link.now()
    first = reads.take()
    while reads.take() == first:  # the first change: read after read
        if link.now() > start + limit_s:
            return None
    approach = 0
    while True:
        fit = reads.fit()
        span = fit.span_s
        if span >= max_window_s or (span >= window_s and fit.uncertainty_ppm <= resolution_ppm):
            return fit
        shown = reads.tight[-1].shown
        # The device's second in bench seconds, once the fit knows it better than a read does.
        period = 1 / (1 + fit.rate_ppm * 1e-6) if fit.uncertainty_ppm < PERIOD_KNOWN_PPM else 1.0
        target = reads.edge(shown) + period  # the next change, to shown + 1
        approach += 1
        lead = reads.trip() * (1 + (approach * GOLDEN) % 1)
        pause = target - lead - link.now()
        if pause > 0:
            link.wait(pause)
        deadline = link.now() + limit_s
        while reads.take() <= shown:
            if link.now() > deadline:
                return None


def clock_rate(dut: Dut, window_s: float, resolution_ppm: float = 0.0,
               max_window_s: float = 0.0) -> RateFit | None:
    """TRI-DIAG-01's rate of the device clock against the bench's, in bench seconds (which
    pass as fast as the device's own on a fast emulated bench); None: the clock stopped."""
    bench = dut.slot.bench
    profile = dut.profile()
    probe = dut.slot.instrument("optical") if "optical" in dut.config.instruments else None
    at_start = int(getattr(probe, "link_errors", 0))

    def repeated() -> bool:  # the probe counts each request it had to send again
        return int(getattr(probe, "link_errors", 0)) != at_start

    mark: Callable[[], None] = getattr(probe, "mark_wire", lambda: None)
    wire: Callable[[], tuple[float, float]] = getattr(probe, "wire_times", lambda: (0.0, 0.0))
    link = ClockLink(profile.read_clock, bench.seconds, bench.wait, mark, wire, repeated)
    with profile.session():
        return sample_rate(link, window_s, resolution_ppm, max_window_s)


def clock_offset(dut: Dut) -> float:
    """The device clock minus the bench's UTC, in seconds, read once (TRI-DIAG-01)."""
    bench, profile = dut.slot.bench, dut.profile()
    with profile.session():
        before = bench.seconds()
        reading = profile.read_clock()
        after = bench.seconds()
    at = bench.utc_now() - datetime.timedelta(seconds=bench.seconds() - (before + after) / 2)
    return (reading - at).total_seconds()
