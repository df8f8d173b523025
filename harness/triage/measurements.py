"""Measurements as OpenHTF records them: every one taken, each with its limits and outcome,
and the test judged once its body has run.

A triage test measures several values of one clause (power: the current with the output
off, the peak on power-up, the supply voltage, the running current). Failing the test on the
first value out of limits loses the others, and with them the evidence a technician reads
(which value was off, and what the rest looked like). So, as an OpenHTF phase does with its
measurement validators, :class:`TestMeasurements` records every value, notes a finding for
each one out of limits, and the test fails after its body returns, naming every failure.

:func:`for_test` is what the ``measure`` fixture returns; it registers (once per pytest run)
the small plugin that fails the test after its call when a measurement was out of limits.
A test that must not go on after a bad value (a step that would act on it) checks the
returned :class:`~harness.triage.record.Measurement`'s ``passed`` and stops itself.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

import pytest

from harness.triage.record import Measurement, TriageRecord

__all__ = ["MEASUREMENTS", "FailAfterCall", "TestMeasurements", "for_test"]

MEASUREMENTS = pytest.StashKey["TestMeasurements"]()
"""Where a test item keeps its :class:`TestMeasurements` (read after the test's call)."""

_PLUGIN_NAME = "meterbench-measurements"


@dataclass
class TestMeasurements:
    """The measurements of one test: each recorded in the device's record and the test's
    report properties, with its limits and PASS/FAIL; those out of limits kept to fail on."""

    __test__ = False  # a pytest collection hint: "Test..." here is not a test class

    record: TriageRecord
    clause: str  # the test's (first) spec clause: the default of each measurement
    properties: list[tuple[str, object]]  # the test item's user_properties
    out_of_limits: list[Measurement] = field(default_factory=list)
    # Told of each measurement as it is taken (e.g. the Allure hooks show it as a step).
    observers: list[Callable[[Measurement], None]] = field(default_factory=list)

    def __call__(self, name: str, value: float | str | bool | None, unit: str = "", *,
                 low: float | None = None, high: float | None = None,
                 expected: str | float | bool | None = None,
                 allowed: tuple[str, ...] | None = None, category: str,
                 clause: str | None = None) -> Measurement:
        """Record one measurement; out of limits, it is a finding in ``category`` and the
        test will fail once its body has run (the next measurements are still taken)."""
        clause = clause or self.clause
        m = self.record.measure(Measurement(name, value, unit, low, high, clause, expected,
                                            allowed))
        self.properties.append((f"{clause} {name}", m.describe()))
        if not m.passed:
            self.record.find(clause, category, m.describe(with_clause=False), measurement=name)
            self.out_of_limits.append(m)
        for observer in self.observers:
            observer(m)
        return m

    def failure(self) -> str | None:
        """Why the test fails: every measurement out of limits, in the order taken; None
        when all were within them."""
        if not self.out_of_limits:
            return None
        if len(self.out_of_limits) == 1:
            return self.out_of_limits[0].describe()
        return (f"{len(self.out_of_limits)} measurements out of limits: "
                + "; ".join(m.describe() for m in self.out_of_limits))


class FailAfterCall:
    """pytest plugin: a test whose measurements were out of limits fails after its body ran
    (in the call phase, so reports and clause counts see a failed test, not a passed one
    with a teardown error). A failure or error of the body itself wins: it is reported as
    is; a skip after a measurement out of limits does not hide it: the test fails."""

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, Any, Any]:
        """Run the test, then fail it if any of its measurements was out of limits."""
        measurements = item.stash.get(MEASUREMENTS, None)
        skipped: BaseException | None = None
        try:
            result = yield
        except pytest.skip.Exception as exc:
            skipped, result = exc, None
        failure = measurements.failure() if measurements is not None else None
        if failure is not None:
            then = f" (then skipped: {skipped})" if skipped is not None else ""
            pytest.fail(failure + then, pytrace=False)
        if skipped is not None:
            raise skipped
        return result


def for_test(request: pytest.FixtureRequest, record: TriageRecord,
             clause: str) -> TestMeasurements:
    """The measurements of the requesting test, failing it after its call if need be."""
    manager = request.config.pluginmanager
    if not manager.has_plugin(_PLUGIN_NAME):
        manager.register(FailAfterCall(), _PLUGIN_NAME)
    measurements = TestMeasurements(record, clause, request.node.user_properties)
    request.node.stash[MEASUREMENTS] = measurements
    return measurements
