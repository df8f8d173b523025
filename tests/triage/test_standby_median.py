"""TRI-PWR-02's standby current: the median of the spec's samples, so radio bursts that lift
fewer than half of them leave the idle level (as the clause says), and a clause whose
sampling is not positive is a clear error, not an empty median."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from harness.triage.spec import default_spec
from test_suites.steps import median_current

CLAUSE = default_spec().clause("TRI-PWR-02")


class _Bursty:
    """A supply reading 10 mA idle, and 40 mA on the samples numbered in ``bursts``."""

    def __init__(self, bursts: set[int]) -> None:
        self.bursts, self.calls = bursts, 0

    def current(self) -> float:
        self.calls += 1
        return 0.040 if self.calls in self.bursts else 0.010


def _dut(supply: _Bursty) -> SimpleNamespace:
    return SimpleNamespace(power=supply, slot=SimpleNamespace(bench=SimpleNamespace(
        time_scale=100.0)))  # the clause's 0.75 s in 7.5 ms


def test_bursts_on_fewer_than_half_the_samples_leave_the_idle_level() -> None:
    samples, every = int(CLAUSE.number("samples")), CLAUSE.number("sample_every_s")
    assert (samples, every) == (15, 0.05)
    supply = _Bursty(set(range(1, 8)))  # 7 samples in bursts
    assert median_current(_dut(supply), samples, every) == pytest.approx(0.010)
    assert supply.calls == samples


def test_a_burst_on_most_samples_is_seen() -> None:
    supply = _Bursty(set(range(1, 40)))
    assert median_current(_dut(supply), 15, 0.05) == pytest.approx(0.040)


@pytest.mark.parametrize(("samples", "every"), [(0, 0.05), (15, 0.0)])
def test_no_sampling_is_a_clear_error(samples: int, every: float) -> None:
    with pytest.raises(ValueError, match="TRI-PWR-02"):
        median_current(_dut(_Bursty(set())), samples, every)
