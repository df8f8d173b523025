"""Current-draw traces: sampling with time stamps from power-on, and what a trace refuses."""

from __future__ import annotations

import math

import pytest

from harness.triage.current_trace import CurrentTrace, capture


class FakeTime:
    """A clock that moves only when the capture sleeps or reads (each reading takes 5 ms)."""

    def __init__(self, start: float = 100.0) -> None:
        self.now = start

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_capture_stamps_each_reading_from_power_on() -> None:
    t = FakeTime()
    readings = iter([0.0, 0.3, 0.2, 0.05, 0.01, 0.01, 0.01])

    def read() -> float:
        t.now += 0.005
        return next(readings)

    powered_at = t.now - 0.01  # the output-on command went 10 ms before sampling began
    trace = capture(read, 0.09, every=0.02, since=powered_at, clause="TRI-PWR-01",
                    current_limit_a=0.5, clock=t.clock, sleep=t.sleep)
    assert [s[0] for s in trace.samples] == [0.01, 0.035, 0.06, 0.085]
    assert trace.amps == [0.0, 0.3, 0.2, 0.05] and trace.peak_a == 0.3
    assert (trace.clause, trace.current_limit_a) == ("TRI-PWR-01", 0.5)


def test_capture_takes_at_least_one_sample() -> None:
    t = FakeTime()
    trace = capture(lambda: 0.02, 0.0, clock=t.clock, sleep=t.sleep)
    assert trace.samples == ((0.0, 0.02),)
    with pytest.raises(ValueError, match="must be >= 0"):
        capture(lambda: 0.02, -1.0, clock=t.clock, sleep=t.sleep)


def test_round_trip_through_a_dict() -> None:
    trace = CurrentTrace(((0.0, 0.0), (0.02, 0.31), (0.5, 0.012)), "TRI-PWR-01", 0.5)
    assert CurrentTrace.from_dict(trace.as_dict()) == trace
    assert trace.as_dict()["samples"] == [[0.0, 0.0], [0.02, 0.31], [0.5, 0.012]]


@pytest.mark.parametrize(("samples", "message"), [
    ((), "no samples"),
    (((0.0, 0.1), (-0.5, 0.1)), r"samples\[1\]: time -0.5 s is before"),
    (((0.0, math.nan),), r"samples\[0\]: not a finite number"),
])
def test_bad_traces_are_refused(samples: tuple, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CurrentTrace(samples)


@pytest.mark.parametrize(("data", "message"), [
    ([], "trace of item3: expected an object"),
    ({"samples": "0,1"}, r"trace of item3: samples: expected a list"),
    ({"samples": [[0, 0.1], [1]]}, r"trace of item3: samples\[1\]: expected \[seconds, amps\]"),
    ({"samples": [[0, 0.1], [1, True]]}, r"samples\[1\]: expected \[seconds, amps\]"),
    ({"samples": [[1, 0.1], [0, 0.1]]}, r"trace of item3: samples\[1\]: time 0.0 s is before"),
    ({"samples": [[0, 0.1]], "current_limit_a": "lots"}, "current_limit_a: expected a number"),
])
def test_from_dict_names_the_bad_key(data: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CurrentTrace.from_dict(data, "trace of item3")  # type: ignore[arg-type]
