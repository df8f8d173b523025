"""TRI-DIAG-01's edge of the seconds value: bounded by the read round trips, and taken again at
the next change when a read was held up by the host (not the device), the narrowest kept."""

from __future__ import annotations

import datetime

from test_suites.steps import clock_edge

EPOCH = datetime.datetime(2026, 12, 5, tzinfo=datetime.UTC)


class _Link:
    """A simulated bench time and a device clock read over a link: each read takes
    ``rtt`` bench seconds (the device answers half-way), except the reads numbered in
    ``slow`` (counted from 0), which a busy host holds up by ``delay`` before they are sent."""

    def __init__(self, start: float, rtt: float = 0.001, slow: frozenset[int] = frozenset(),
                 delay: float = 0.2, stopped: bool = False) -> None:
        self.t, self.rtt, self.slow, self.delay, self.stopped = start, rtt, slow, delay, stopped
        self.reads = 0

    def now(self) -> float:
        return self.t

    def read(self) -> datetime.datetime:
        if self.reads in self.slow:
            self.t += self.delay
        self.reads += 1
        self.t += self.rtt / 2
        seen = 0.0 if self.stopped else self.t
        self.t += self.rtt / 2
        return EPOCH + datetime.timedelta(seconds=int(seen))


def test_the_change_is_bounded_by_the_round_trips() -> None:
    link = _Link(start=0.5)
    edge = clock_edge(link.read, link.now)
    assert edge is not None
    value, at, half = edge
    assert value == EPOCH + datetime.timedelta(seconds=1)
    assert at - half <= 1.0 <= at + half
    assert half <= 2 * link.rtt


def test_a_read_held_up_by_the_host_is_taken_again_at_the_next_change() -> None:
    link = _Link(start=0.999, slow=frozenset({1}), delay=0.05)  # the read seeing the change
    edge = clock_edge(link.read, link.now, attempts=3)
    assert edge is not None
    value, at, half = edge
    assert value == EPOCH + datetime.timedelta(seconds=2)  # the spoiled first change left
    assert at - half <= 2.0 <= at + half
    assert half <= 2 * link.rtt


def test_one_attempt_keeps_the_spoiled_change_with_its_wide_bound() -> None:
    link = _Link(start=0.999, slow=frozenset({1}), delay=0.05)
    edge = clock_edge(link.read, link.now, attempts=1)
    assert edge is not None
    value, at, half = edge
    assert value == EPOCH + datetime.timedelta(seconds=1)
    assert half > 0.02 and at - half <= 1.0 <= at + half  # wide, but still true


def test_a_slow_link_is_not_mistaken_for_a_hiccup() -> None:
    """Every round trip slow alike (a physical line at 300 Bd): the first change is kept."""
    link = _Link(start=0.5, rtt=0.15)
    edge = clock_edge(link.read, link.now, attempts=3)
    assert edge is not None and edge[0] == EPOCH + datetime.timedelta(seconds=1)


def test_a_stopped_clock_gives_none() -> None:
    link = _Link(start=0.5, stopped=True)
    assert clock_edge(link.read, link.now, limit_s=3.0, attempts=3) is None


class _LaggingLink(_Link):
    """A link one answer behind (a repeat's late answer was taken for the next read's): each
    read returns what the device said at the read before."""

    def __init__(self, start: float) -> None:
        super().__init__(start)
        self._owed: datetime.datetime | None = None

    def read(self) -> datetime.datetime:
        fresh = super().read()
        owed, self._owed = self._owed, fresh
        return owed if owed is not None else fresh


def test_after_a_repeat_the_interval_starts_a_read_earlier() -> None:
    """One answer behind, the change shows a read late: without the repeat known, the
    interval misses the true change; known, it holds it."""
    for repeated, holds in ((False, False), (True, True)):
        link = _LaggingLink(start=0.9985)
        edge = clock_edge(link.read, link.now, repeated=lambda r=repeated: r)
        assert edge is not None
        _, at, half = edge
        assert (at - half <= 1.0 <= at + half) is holds
