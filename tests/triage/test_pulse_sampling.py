"""TRI-DIAG-05's supply sampling knows its own limits: it reports the longest time between
two samples (a pulse shorter than that may fall between them, which the suite then leaves
not assessed instead of charging the device), and a sampler that died (the supply timed out)
is raised, never read as "no pulse"."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest

from harness.errors import InstrumentTimeoutError
from test_suites.steps import peak_current_during


class _Supply:
    """A supply whose current query takes ``query_s`` and answers ``amps`` in turn."""

    def __init__(self, query_s: float, fail: bool = False) -> None:
        self.query_s, self.fail, self.calls = query_s, fail, 0

    def current(self) -> float:
        self.calls += 1
        time.sleep(self.query_s)
        if self.fail:
            raise InstrumentTimeoutError("psu: no answer within 1.0 s")
        return 0.2 if self.calls == 2 else 0.01


def _dut(supply: _Supply) -> SimpleNamespace:
    return SimpleNamespace(power=supply, wait=time.sleep)


def test_the_peak_and_the_longest_gap_between_samples_are_reported() -> None:
    result, peak, gap = peak_current_during(_dut(_Supply(0.04)), lambda: "enabled", 0.25)
    assert result == "enabled" and peak == pytest.approx(0.2)
    assert 0.035 <= gap < 0.2  # each query took 40 ms: a 10 ms pulse could hide between


def test_a_dead_sampler_is_raised_not_read_as_no_pulse() -> None:
    with pytest.raises(InstrumentTimeoutError):
        peak_current_during(_dut(_Supply(0.01, fail=True)), lambda: "enabled", 0.1)
