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


def _scaled_dut(supply: _Supply) -> SimpleNamespace:
    """A device on a bench at time scale 1 whose own wait is refused: an awaited pulse is
    waited for as an event, never as a fixed wait."""
    def refused(seconds: float) -> None:
        raise AssertionError(f"a fixed wait of {seconds} s while a pulse was awaited")

    bench = SimpleNamespace(time_scale=1.0)
    return SimpleNamespace(power=supply, wait=refused, slot=SimpleNamespace(bench=bench))


def test_an_awaited_pulse_ends_the_sampling_once_seen() -> None:
    """The wait after the action ends when the pulse shows, not after the whole after_s."""
    started = time.monotonic()
    result, peak, _ = peak_current_during(_scaled_dut(_Supply(0.01)), lambda: "open", 60.0,
                                          until_a=0.15)
    assert result == "open" and peak == pytest.approx(0.2)
    assert time.monotonic() - started < 30.0  # not the 60 s after_s


def test_a_pulse_never_seen_is_awaited_for_after_s() -> None:
    supply = _Supply(0.01)
    supply.calls = 10  # past the pulse: every reading is the idle 10 mA
    result, peak, _ = peak_current_during(_scaled_dut(supply), lambda: "open", 0.2,
                                          until_a=0.15)
    assert result == "open" and peak == pytest.approx(0.01)
    assert supply.calls >= 10 + 5  # sampled on through the 0.2 s after the answer


@pytest.mark.parametrize(("kind", "previous", "state", "expected"), [
    ("ESME", "enabled", "disabled", 0.15), ("ESME", "disabled", "enabled", 0.15),
    ("ESME", "disabled", "disabled", None), ("ESME", None, "disabled", None),
    ("GSME", "closed", "armed", None), ("GSME", "armed", "open", 0.15),
    ("GSME", "open", "closed", 0.15), ("GSME", "closed", "closed", None),
])
def test_a_pulse_is_awaited_only_where_the_contacts_move(kind: str, previous: str | None,
                                                         state: str, expected: float | None
                                                         ) -> None:
    """TRI-DIAG-05 judges a pulse only where contacts (a valve) move: no other switching
    waits for one."""
    from test_suites.test_30_diagnostics import pulse_to_see

    assert pulse_to_see(kind, previous, state, 0.15) == expected
    assert pulse_to_see(kind, previous, state, None) is None
