"""Allure results a QA team can read: a suite per device, a step per measurement, labels, links.

Registered by :mod:`harness.plugin.session` only when the run uses meterbench *and*
allure-pytest writes results (``--alluredir``); otherwise never imported. Everything goes
through allure-pytest's public API (``allure.dynamic``, ``allure.step``): per test, the
device's suite (parent suite: the bench; suite: the device; sub-suite: the stage), labels
(item, device ID, type, model, bench), the spec clauses as links with their text in the
description, the device as an unquoted parameter, and each measurement as a step with its
value, limits and outcome. What is known only once a device's last test has run (its
verdict and category) and the run's environment are written into the results folder at the
end (:mod:`harness.plugin.allure_files`).
"""

from __future__ import annotations

import contextlib
import functools
import math
import re
import time
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import allure
import pytest
from allure_commons import fixture as AllureFixture

from harness.plugin import allure_files
from harness.plugin.device import Dut
from harness.plugin.triage_run import RUN_KEY, TriageRun
from harness.triage.measurements import MEASUREMENTS
from harness.triage.record import Measurement
from harness.triage.spec import Clause, default_spec

PLUGIN_NAME = "meterbench.allure"
START_KEY = pytest.StashKey[float]()  # when the run started (epoch ms): its results are newer

# What each of meterbench's fixtures does when it is torn down, as the tear-down list says it.
TEARDOWN_TITLES = {
    "bench": "bench: every instrument safe, lock released",
    "power": "power: every output off",
    "dut": "dut: released",
    "meterbench_session": "bench session: closed",
}


def register(config: pytest.Config) -> None:
    """Hook Allure in for this meterbench run (allure-pytest writes results in it)."""
    if not config.pluginmanager.has_plugin(PLUGIN_NAME):
        config.stash[START_KEY] = time.time() * 1000
        config.pluginmanager.register(AllureHooks(), PLUGIN_NAME)


class Shown:
    """A parameter value shown as is: allure quotes a ``str`` (``'item3'``), not this."""

    def __init__(self, text: object) -> None:
        self.text = str(text)

    def __repr__(self) -> str:
        return self.text


# Units shown with an SI prefix (34.2 mA rather than 0.0342 A); ppm, dB, % stay as they are.
SI_UNITS = ("A", "V", "W", "s", "Hz", "Ω", "F")
_PREFIXES = {-9: "n", -6: "µ", -3: "m", 0: "", 3: "k", 6: "M"}


def number(value: object) -> str:
    """A value as a reader wants it: ``0.5187``, ``1e-06``, ``true``, ``none``, ``""``."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:.6g}"
    if value == "":
        return '""'  # an empty reading, not a missing one
    return "none" if value is None else str(value)


def quantity(value: object, unit: str) -> str:
    """A value with its unit, SI-prefixed where that reads better: ``34.159 mA``, ``1 µA``."""
    if not unit:
        return number(value)
    if unit in SI_UNITS and isinstance(value, int | float) and not isinstance(value, bool) \
            and value and math.isfinite(value):
        exp = max(-9, min(6, 3 * math.floor(math.log10(abs(value)) / 3)))
        return f"{value / 10 ** exp:.5g} {_PREFIXES[exp]}{unit}"
    return f"{number(value)} {unit}"


def limits_text(m: Measurement) -> str:
    """A measurement's limits in words: ``100 µA to 1.2 A``, ``≤ 1 µA``, ``expected …``."""
    if m.allowed is not None:
        return "one of " + ", ".join(m.allowed)
    if m.expected is not None:
        return f"expected {quantity(m.expected, m.unit)}"
    if m.low is not None and m.high is not None:
        return f"{quantity(m.low, m.unit)} to {quantity(m.high, m.unit)}"
    if m.low is not None:
        return f"≥ {quantity(m.low, m.unit)}"
    if m.high is not None:
        return f"≤ {quantity(m.high, m.unit)}"
    return "no limits"


def has_limits(m: Measurement) -> bool:
    """Whether a measurement is judged (limits, an expected value or allowed ones)."""
    return any(x is not None for x in (m.low, m.high, m.expected, m.allowed))


@allure.step("{measurement} = {value} ({limits}): {outcome}")
def _measurement_step(measurement: Shown, value: Shown, limits: Shown, outcome: Shown,
                      clause: Shown) -> None:
    """One measurement as an Allure step (its arguments are the step's parameters)."""
    if outcome.text == "FAIL":  # an AssertionError is what Allure marks a failed step
        raise AssertionError(f"{clause} {measurement} = {value}, outside its limits ({limits})")


def measurement_step(m: Measurement) -> None:
    """Show a measurement just taken as a step: PASS or FAIL against its limits (a failed
    step; the test goes on and fails after its body, as :mod:`harness.triage.measurements`
    says), or ``recorded`` when nothing judges it."""
    shown = quantity(m.value, m.unit) if not isinstance(m.value, bool | str) else number(m.value)
    outcome = "PASS" if m.passed and has_limits(m) else "recorded" if m.passed else "FAIL"
    with contextlib.suppress(AssertionError):  # a failed step; the measure fixture fails the test
        _measurement_step(Shown(m.name), Shown(shown), Shown(limits_text(m)), Shown(outcome),
                          Shown(m.clause or "—"))


def stage_of(item: pytest.Item) -> str:
    """A test's stage as its file says it: ``test_10_power.py`` -> ``10 power``."""
    stem = Path(str(item.path)).stem
    return re.sub(r"^test_", "", stem).replace("_", " ")


def title_of(item: pytest.Item, clauses: list[str]) -> str:
    """``TRI-PWR-01 power on draws current``: the clause and what the test checks."""
    name = getattr(item, "originalname", item.name)
    what = re.sub(r"^test_", "", name).replace("_", " ")
    return " ".join([*clauses[:1], what])


def clauses_of(item: pytest.Item) -> list[Clause]:
    """The spec clauses a test proves that the triage specification knows."""
    spec = default_spec()
    ids = [c for m in item.iter_markers("spec") for c in m.args]
    return [spec.clause(c) for c in dict.fromkeys(ids) if c in spec]


def clause_link(config: pytest.Config, clause: Clause) -> str:
    """Where a clause's text is: the lab's own page with ``--allure-link-pattern
    tms:URL/{}`` (allure fills in the id), else the packaged spec file at the clause."""
    patterns = dict(getattr(config.option, "allure_link_pattern", None) or [])
    if "tms" in patterns:
        return clause.id
    return allure_files.spec_uri() + "#" + clause.id


def describe(item: pytest.Item, clauses: list[Clause]) -> str:
    """The test's docstring, then the text of each clause it proves (Markdown)."""
    doc = (getattr(getattr(item, "function", None), "__doc__", None) or "").strip()
    parts = [re.sub(r"\n\s+", "\n", doc)] if doc else []
    for clause in clauses:
        parts.append(f"**{clause.id} {clause.title}** (triage specification): "
                     + " ".join(clause.text.split()))
    return "\n\n".join(parts)


def dut_of(item: pytest.Item) -> tuple[TriageRun, Dut] | None:
    """The run and the device a test ran on, or None (a test without a device)."""
    run = item.config.stash.get(RUN_KEY, None)
    callspec = getattr(item, "callspec", None)
    key = callspec.params.get("dut") if callspec else None
    if run is None or not isinstance(key, str) or key not in run.duts:
        return None
    return run, run.duts[key]


def device_suite(key: str, device_type: str, device_id: str | None) -> str:
    """A device's suite name: ``item3 ESME 00DB1377BAD76841``."""
    return " ".join(p for p in (key, device_type, device_id) if p)


def label_test(item: pytest.Item) -> None:
    """Title, description, suites, labels, links and the device parameter of one test."""
    clauses = clauses_of(item)
    allure.dynamic.title(title_of(item, [c.id for c in clauses]))
    allure.dynamic.description(describe(item, clauses))
    for clause in clauses:
        allure.dynamic.link(clause_link(item.config, clause), link_type="tms",
                            name=f"{clause.id} {clause.title}")
        allure.dynamic.story(f"{clause.id} {clause.title}")
    allure.dynamic.feature(stage_of(item))
    found = dut_of(item)
    run = item.config.stash.get(RUN_KEY, None)
    if run is not None:
        bench = run.session.config
        kind = "emulated" if bench.emulated else "physical"
        allure.dynamic.parent_suite(f"bench {bench.bench.name} ({kind})")
        allure.dynamic.label("bench", bench.bench.name)
        if bench.emulated:
            allure.dynamic.tag("emulated")
    if found is None:
        return
    _, dut = found
    record = dut.record
    device_id = record.identity.device_id if record.identity else dut.label.device_id
    # Named from what does not change during the device's triage (its label, not what its
    # identity stage reads), so all its stages share one suite; its verdict renames it.
    allure.dynamic.suite(device_suite(dut.key, record.device_type, dut.label.device_id))
    allure.dynamic.sub_suite(stage_of(item))  # a test without a device keeps its file's suite
    allure.dynamic.label("item", dut.key)
    allure.dynamic.label("device_type", record.device_type)
    if device_id:
        allure.dynamic.label("device_id", device_id)
    model = record.identity.model if record.identity else dut.row.model if dut.row else None
    if model:
        allure.dynamic.label("model", model)
    allure.dynamic.parameter("dut", Shown(dut.key))
    allure.dynamic.parameter("slot", Shown(dut.slot.name), excluded=True)


def readable_teardowns(fixturedef: pytest.FixtureDef[Any]) -> None:
    """Name each tear-down allure-pytest just wrapped: a yield fixture's own tear-down gets
    what it does; pytest's bookkeeping (a ``<lambda>`` calling its post-finalizer hook, a
    dependent fixture's ``finish``) is unwrapped, so it is not listed as a tear-down."""
    finalizers: list[Callable[[], object]] = getattr(fixturedef, "_finalizers", [])
    for index, fin in enumerate(finalizers):
        inner = getattr(fin, "_fixture_function", None)  # what allure's wrapper wraps
        if not isinstance(fin, AllureFixture) or inner is None:
            continue  # not wrapped (or an allure-pytest that wraps otherwise): left as is
        target = inner.func if isinstance(inner, functools.partial) else inner
        name = getattr(target, "__name__", "")
        if name == "<lambda>" or name == "finish":  # pytest's own, not the fixture's
            finalizers[index] = inner
        elif name == "_teardown_yield_fixture":
            fin._name = TEARDOWN_TITLES.get(fixturedef.argname,
                                            f"{fixturedef.argname}: tear-down")
        elif not name:
            fin._name = f"{fixturedef.argname}: tear-down"


class AllureHooks:
    """The pytest hooks that shape the Allure results of a meterbench run."""

    @pytest.hookimpl(hookwrapper=True, tryfirst=True)
    def pytest_fixture_setup(self, fixturedef: pytest.FixtureDef[Any],
                             request: pytest.FixtureRequest) -> Generator[None, Any, None]:
        """After allure-pytest wrapped the fixture's tear-downs: readable names."""
        yield
        readable_teardowns(fixturedef)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, Any, None]:
        """Each measurement the test takes becomes a step as it is taken."""
        measurements = item.stash.get(MEASUREMENTS, None)
        if measurements is not None:
            measurements.observers.append(measurement_step)
        yield

    @pytest.hookimpl(hookwrapper=True, tryfirst=True)
    def pytest_runtest_teardown(self, item: pytest.Item) -> Iterator[None]:
        """Label the test (its device, clauses, stage) before its tear-down; allure-pytest
        writes it after, and adds default suites only where none was given."""
        label_test(item)
        yield

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """The run's environment, and each device's verdict on its results."""
        config = session.config
        run = config.stash.get(RUN_KEY, None)
        if run is None or run.worker:
            return  # the controller writes them, once every worker's results are in
        results = Path(config.option.allure_report_dir)
        allure_files.write_environment(results, allure_files.environment(config, run))
        allure_files.write_categories(results)
        allure_files.add_verdicts(results, run.summary, bench=run.session.config.bench.name,
                                  since_ms=config.stash[START_KEY])
