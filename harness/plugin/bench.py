"""pytest plugin: bench options and markers, the ``bench``/``power``/``dut`` fixtures, reports.

Loaded once through the ``pytest11`` entry point whether pytest runs from the checkout or
against an installed wheel. The bench is opened once per session (emulated in process when
the bench file says so) and every instrument is put back in its safe state after each test
that used a slot and at the end of the session, even when a test fails or the run is
interrupted. Its own hooks (``harness.plugin.newhooks``) tell a lab's plugin each device's verdict.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from harness.bench.bench import Bench
from harness.bench.session import BenchSession
from harness.drivers.power.base import PowerSupply
from harness.errors import BenchUnavailableError, MeterbenchError
from harness.plugin import newhooks, parallel, triage
from harness.plugin.reporting import attach_transcripts, mark_transcripts

if TYPE_CHECKING:
    from harness.emulator.bench import EmulatedBench

SESSION_KEY = pytest.StashKey[BenchSession]()

MARKERS = (
    "spec(*clause_ids): links a test to the triage-specification clause(s) it proves",
    "destructive: the test changes the device (reset, credentials, consumer data)",
    "device_type(*types): the device types (GBCS names, e.g. ESME, GSME, CHF) a test applies to",
)


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    # meterbench's own hooks, for a lab's plugin to forward verdicts (harness.plugin.newhooks).
    pluginmanager.add_hookspecs(newhooks)
    # The triage half of the plugin (devices, records, verdicts) is its own module.
    if not pluginmanager.is_registered(triage):
        pluginmanager.register(triage, "meterbench.triage")
    if not pluginmanager.is_registered(parallel):
        pluginmanager.register(parallel, "meterbench.parallel")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("meterbench", "meterbench bench")
    group.addoption("--bench", dest="mb_bench", action="append", default=None, metavar="PATH",
                    help="bench file to run against (default: ini meterbench_bench, else the "
                         "emulated bench); repeat it to give xdist workers a bench each: each "
                         "worker leases the first free one through the bench lock")
    group.addoption("--time-scale", dest="mb_time_scale", default=None, type=float,
                    metavar="N", help="fast mode on an all-emulated bench: devices run N times "
                                      "faster and the harness waits N times less")
    parser.addini("meterbench_bench", "default bench file for --bench", default="")


# pyserial 3.5's RFC 2217 client still uses the old Thread API; not ours to fix.
WARNING_FILTERS = (
    r"ignore:setDaemon\(\) is deprecated:DeprecationWarning:serial.rfc2217",
    r"ignore:setName\(\) is deprecated:DeprecationWarning:serial.rfc2217",
)


def pytest_configure(config: pytest.Config) -> None:
    for line in MARKERS:
        config.addinivalue_line("markers", line)
    for line in WARNING_FILTERS:
        config.addinivalue_line("filterwarnings", line)
    paths = parallel.bench_paths(config)
    try:
        if parallel.is_controller(config):  # runs no test: reads the bench, leases nothing
            config.stash[SESSION_KEY] = BenchSession.from_file(paths[0])
        else:
            config.stash[SESSION_KEY] = BenchSession.lease(
                paths, start=parallel.worker_index(config), purpose="pytest")
        if config.getoption("mb_time_scale") is not None:
            config.stash[SESSION_KEY].fast(config.getoption("mb_time_scale"))
        triage.start_run(config, config.stash[SESSION_KEY])
    except BenchUnavailableError as exc:
        pytest.exit(f"meterbench: bench unavailable: {exc}", returncode=3)
    except MeterbenchError as exc:
        raise pytest.UsageError(str(exc)) from None


def pytest_unconfigure(config: pytest.Config) -> None:
    session = config.stash.get(SESSION_KEY, None)
    if session is not None:
        session.close()  # normally done by the bench fixture; this catches aborted sessions


def pytest_report_header(config: pytest.Config) -> str | None:
    session = config.stash.get(SESSION_KEY, None)
    if session is None:
        return None
    kind = "emulated" if session.config.emulated else "physical"
    scale = session.config.bench.time_scale
    fast = f", fast mode x{scale:g}" if scale != 1.0 else ""
    return f"meterbench bench: {session.config.bench.name} ({kind}{fast}) from {session.source}"


@pytest.fixture(scope="session")
def meterbench_session(pytestconfig: pytest.Config) -> BenchSession:
    """The bench file (and its emulator) this run uses, not yet opened."""
    return pytestconfig.stash[SESSION_KEY]


@pytest.fixture(scope="session")
def bench(meterbench_session: BenchSession) -> Iterator[Bench]:
    """The open bench, for the whole session; safe state and lock released at the end."""
    try:
        opened = meterbench_session.open(purpose="pytest")
    except MeterbenchError as exc:
        pytest.exit(f"meterbench: bench unavailable: {exc}", returncode=3)
    try:
        yield opened
    finally:
        meterbench_session.close()


@pytest.fixture(scope="session")
def emulator(meterbench_session: BenchSession, bench: Bench) -> EmulatedBench | None:
    """The running emulated bench, or None on a physical bench (for the project's own tests)."""
    return meterbench_session.emulator


@pytest.fixture
def power(bench: Bench) -> Iterator[PowerSupply]:
    """The bench's power supply; every output is switched off after the test."""
    supply = bench.power
    try:
        yield supply
    finally:
        supply.safe_state()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Attach each instrument's transcript of this test to the report (and to Allure)."""
    bench_obj = _open_bench(item)
    marks = mark_transcripts(bench_obj) if bench_obj else {}
    yield
    if bench_obj is not None:
        triage.keep_transcripts(item, attach_transcripts(item, bench_obj, marks))


def _open_bench(item: pytest.Item) -> Bench | None:
    if "bench" not in getattr(item, "fixturenames", ()):
        return None
    session = item.config.stash.get(SESSION_KEY, None)
    return session.bench if session else None
