"""meterbench's pytest plugin (entry point ``pytest11: meterbench = harness.plugin``).

Inert until a run asks for meterbench, as labgrid's plugin is: installed beside other
projects it adds its ``--mb-`` options, three markers and its hook specs, and nothing else —
no header, no bench loaded, no parametrization, no xdist scheduler, and no import beyond this
module and :mod:`harness.plugin.options` (both import pytest alone).

A run asks for meterbench in one of two ways:

- a ``--mb-`` option or the ini key ``meterbench_bench``: a *campaign*. The bench is read when
  pytest configures, the header names it, and under xdist meterbench's device scheduler hands
  out whole devices;
- a collected test that requests one of meterbench's fixtures by its documented name
  (:data:`FIXTURES`), resolved to this plugin's definition (a project's own ``dut`` fixture is
  its own): the default bench is then read at collection, and the header line comes after it.

Only then are the plugin's working modules (:mod:`harness.plugin.session`,
:mod:`harness.plugin.triage`, :mod:`harness.plugin.parallel`) imported and registered.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from harness.plugin import newhooks, options

if TYPE_CHECKING:
    from harness.bench.bench import Bench
    from harness.bench.session import BenchSession
    from harness.drivers.power.base import PowerSupply
    from harness.emulator.bench import EmulatedBench
    from harness.plugin.device import Dut
    from harness.triage.gate import Gate
    from harness.triage.measurements import TestMeasurements

# The documented fixtures: a test that requests one of these asks for meterbench.
FIXTURES = ("meterbench_session", "bench", "emulator", "power", "dut", "measure")

MARKERS = (
    "spec(*clause_ids): links a test to the triage-specification clause(s) it proves",
    "destructive: the test changes the device (reset, credentials, consumer data)",
    "device_type(*types): the device types (GBCS names, e.g. ESME, GSME, CHF) a test applies to",
)

ACTIVE = pytest.StashKey[str]()  # why this run uses meterbench ("--mb-db", "fixture 'dut'"...)
LATE_HEADER = pytest.StashKey[bool]()  # activated at collection: header after collection


def pytest_addoption(parser: pytest.Parser) -> None:
    options.add_options(parser)


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    # meterbench's own hooks, for a lab's plugin to forward verdicts (harness.plugin.newhooks).
    pluginmanager.add_hookspecs(newhooks)


def pytest_configure(config: pytest.Config) -> None:
    """Markers always (a suite's ``@pytest.mark.spec`` must pass ``--strict-markers``); the
    rest only when an option or the ini key asks for meterbench."""
    for line in MARKERS:
        config.addinivalue_line("markers", line)
    asked = options.given(config)
    if asked:
        activate(config, why=asked[0])


def activate(config: pytest.Config, why: str) -> None:
    """Use meterbench in this run: read the bench, start the triage run, register the
    plugin's working modules. Once per run; later calls do nothing."""
    if ACTIVE in config.stash:
        return
    if hasattr(config, "workerinput") and not options.given(config):
        # An xdist worker of a run that is not a campaign: the controller kept xdist's own
        # scheduler, which would split one device's stages over several benches.
        raise pytest.UsageError(
            f"meterbench ({why}) under pytest-xdist needs a campaign, so that each device "
            "stays on one bench: give --mb-bench (once per worker), or run "
            "`meterbench triage --workers N`")
    config.stash[ACTIVE] = why
    # Asked for by a fixture or a suite, not an option: the header is known only after
    # pytest printed its own, so it follows the collection.
    config.stash[LATE_HEADER] = not options.given(config)
    from harness.plugin import session as session_plugin  # the heavy imports start here

    try:
        session_plugin.start(config)
    finally:
        # registered even after a failed start: its unconfigure closes what was leased
        if not config.pluginmanager.is_registered(session_plugin):
            config.pluginmanager.register(session_plugin, "meterbench.session")


def active(config: pytest.Config) -> bool:
    """Whether this run uses meterbench."""
    return ACTIVE in config.stash


def session_of(config: pytest.Config) -> BenchSession:
    """The run's bench session, for a suite's own hooks (e.g. its ``pytest_generate_tests``):
    asking for it asks for meterbench."""
    activate(config, why="a suite asked for the bench session")
    from harness.plugin import session as session_plugin

    return session_plugin.session_of(config)


def gate_of(config: pytest.Config) -> Gate | None:
    """The run's access gate (who acts, as which role), for a suite's own fixtures."""
    activate(config, why="a suite asked for the access gate")
    from harness.plugin.triage_run import RUN_KEY

    return config.stash[RUN_KEY].gate


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """meterbench's device scheduler, for meterbench campaigns only (an option asked for it);
    any other distributed run keeps the scheduler its ``--dist`` names."""
    if not active(config):
        return None
    from harness.plugin.parallel import make_scheduler

    return make_scheduler(config, log)


def _ours(defs: Any) -> bool:
    """Whether the closest definition of a fixture name is this plugin's."""
    return bool(defs) and getattr(defs[-1].func, "__module__", None) == __name__


def _asked_fixture(names: Any, name2defs: dict[str, Any]) -> str | None:
    for name in FIXTURES:
        if name in names and _ours(name2defs.get(name)):
            return name
    return None


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test that takes meterbench's ``dut`` runs once per device it applies to."""
    if "dut" not in metafunc.fixturenames or not _ours(metafunc._arg2fixturedefs.get("dut")):
        return
    activate(metafunc.config, why="fixture 'dut'")
    from harness.plugin import triage

    triage.parametrize(metafunc)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Activation by fixture (a test asks for ``bench``, ``power``...), then device order."""
    if not active(config):
        for item in items:
            info = getattr(item, "_fixtureinfo", None)
            name = _asked_fixture(info.names_closure, info.name2fixturedefs) if info else None
            if name is not None:
                activate(config, why=f"fixture {name!r}")
                break
    if active(config):
        from harness.plugin import triage

        triage.order_items(config, items)


def pytest_report_collectionfinish(config: pytest.Config) -> list[str]:
    """The header of a run that asked for meterbench by a fixture (known only now)."""
    if not config.stash.get(LATE_HEADER, False):
        return []
    from harness.plugin import session as session_plugin

    return session_plugin.header_lines(config)


# --- the documented fixtures: thin here, their work in the modules imported on activation ---


@pytest.fixture(scope="session")
def meterbench_session(pytestconfig: pytest.Config) -> BenchSession:
    """The bench file (and its emulator) this run uses, not yet opened."""
    return session_of(pytestconfig)


@pytest.fixture(scope="session")
def bench(meterbench_session: BenchSession) -> Iterator[Bench]:
    """The open bench, for the whole session; safe state and lock released at the end."""
    from harness.plugin import session as session_plugin

    yield from session_plugin.open_bench(meterbench_session)


@pytest.fixture(scope="session")
def emulator(meterbench_session: BenchSession, bench: Bench) -> EmulatedBench | None:
    """The running emulated bench, or None on a physical bench (for a project's own tests)."""
    return meterbench_session.emulator


@pytest.fixture
def power(bench: Bench) -> Iterator[PowerSupply]:
    """The bench's power supply; every output is switched off after the test."""
    supply = bench.power
    try:
        yield supply
    finally:
        supply.safe_state()


@pytest.fixture
def dut(request: pytest.FixtureRequest, bench: Bench) -> Iterator[Dut]:
    """The device under test; presented in its slot when its first test starts."""
    from harness.plugin import triage

    yield from triage.dut_fixture(request, bench)


@pytest.fixture
def measure(request: pytest.FixtureRequest, dut: Dut) -> TestMeasurements:
    """Record measurements with their limits; one outside them is a finding, and the test
    fails once its body has run, naming every one (as OpenHTF phases do)."""
    from harness.plugin import triage

    return triage.measure_fixture(request, dut)
