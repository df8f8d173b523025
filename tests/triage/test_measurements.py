"""Measurements as OpenHTF records them: every one taken with its limits and outcome, and the
test failed after its body ran, naming each value out of limits (harness.triage.measurements).
"""

from __future__ import annotations

import pytest

from harness.triage.measurements import TestMeasurements
from harness.triage.record import TriageRecord

# An inner test shaped as test_suites/test_10_power.py: the current with the output off is
# out of limits, then the peak current and the supply voltage are measured.
POWER_TEST = '''
import pytest

from harness.triage import measurements
from harness.triage.record import TriageRecord

RECORD = TriageRecord(key="item1", slot="esme", device_type="ESME", role="supplier")


@pytest.fixture
def measure(request):
    return measurements.for_test(request, RECORD, "TRI-PWR-01")


def test_power_on_draws_current(measure):
    measure("off_current", 0.02, "A", high=1e-6, category="power")
    measure("peak_current", 0.35, "A", low=1e-4, high=1.0, category="power")
    measure("supply_voltage", 229.0, "V", low=225.4, high=234.6, category="power")
    measure("running_current", 0.0, "A", low=1e-5, category="power")


def test_all_within_limits(measure):
    measure("peak_current", 0.35, "A", low=1e-4, high=1.0, category="power")


def test_out_of_limits_then_skipped(measure):
    measure("standby_current", 9.0, "A", high=0.05, category="power")
    pytest.skip("not assessed: something later")


def test_a_crash_after_a_bad_value_is_reported_as_the_crash(measure):
    measure("standby_current", 9.0, "A", high=0.05, category="power")
    raise RuntimeError("the bench fell over")


def test_zz_the_record_kept_every_measurement():
    assert [m.name for m in RECORD.measurements][:4] == [
        "off_current", "peak_current", "supply_voltage", "running_current"]
    assert [(f.clause, f.category) for f in RECORD.findings] == [("TRI-PWR-01", "power")]
'''


def record() -> TriageRecord:
    return TriageRecord(key="item1", slot="esme", device_type="ESME", role="supplier")


def test_every_measurement_is_recorded_and_only_those_out_of_limits_fail() -> None:
    properties: list[tuple[str, object]] = []
    r = record()
    measure = TestMeasurements(r, "TRI-PWR-01", properties)
    off = measure("off_current", 0.02, "A", high=1e-6, category="power")
    peak = measure("peak_current", 0.35, "A", low=1e-4, high=1.0, category="power")
    volts = measure("supply_voltage", 240.0, "V", low=225.4, high=234.6, category="power")
    assert [m.passed for m in (off, peak, volts)] == [False, True, False]
    assert r.measurements == [off, peak, volts]
    assert [name for name, _ in properties] == [
        "TRI-PWR-01 off_current", "TRI-PWR-01 peak_current", "TRI-PWR-01 supply_voltage"]
    assert measure.out_of_limits == [off, volts]
    failure = measure.failure()
    assert failure is not None and failure.startswith("2 measurements out of limits: ")
    assert "off_current = 0.02 A [, 1e-06] FAIL" in failure
    assert "supply_voltage = 240 V [225.4, 234.6] FAIL" in failure


def test_a_clause_given_overrides_the_tests_and_no_failure_means_none() -> None:
    measure = TestMeasurements(record(), "TRI-HAN-02", [])
    m = measure("hub_lqi", 200, "LQI", low=100, category="HAN", clause="TRI-HAN-03")
    assert m.clause == "TRI-HAN-03" and measure.failure() is None


def test_the_test_fails_after_all_its_measurements_were_taken(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_power=POWER_TEST)
    result = pytester.runpytest("-p", "no:meterbench", "-p", "no:randomly", "-rA")
    result.assert_outcomes(passed=2, failed=3)
    result.stdout.fnmatch_lines([
        "*_ test_power_on_draws_current _*",
        "2 measurements out of limits: TRI-PWR-01 off_current = 0.02 A [, 1e-06] FAIL; "
        "TRI-PWR-01 running_current = 0 A [1e-05, ] FAIL",
        "*_ test_out_of_limits_then_skipped _*",
        "TRI-PWR-01 standby_current = 9 A [, 0.05] FAIL "
        "(then skipped: not assessed: something later)",
        "*_ test_a_crash_after_a_bad_value_is_reported_as_the_crash _*",
        "*RuntimeError: the bench fell over",
    ])
