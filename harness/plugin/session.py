"""The bench session of a run that uses meterbench: read, leased, opened, kept safe.

Imported and registered by the plugin's entry module (:mod:`harness.plugin`) only once a run
asks for meterbench. The bench is opened once per session (emulated in process when the bench
file says so) and every instrument is put back in its safe state after each test that used a
slot and at the end of the session, even when a test fails or the run is interrupted.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.bench.bench import Bench
from harness.bench.preflight import check_before_campaign
from harness.bench.session import BenchSession
from harness.errors import BenchUnavailableError, MeterbenchError
from harness.plugin import hub_returns, parallel, triage
from harness.plugin.reporting import attach_transcripts, mark_transcripts

SESSION_KEY = pytest.StashKey[BenchSession]()

# pyserial 3.5's RFC 2217 client still uses the old Thread API; not ours to fix.
WARNING_FILTERS = (
    r"ignore:setDaemon\(\) is deprecated:DeprecationWarning:serial.rfc2217",
    r"ignore:setName\(\) is deprecated:DeprecationWarning:serial.rfc2217",
)


def start(config: pytest.Config) -> None:
    """Read (or lease) the run's bench and start the triage run, with the triage and xdist
    halves of the plugin registered (the entry module registers this one)."""
    for line in WARNING_FILTERS:
        config.addinivalue_line("filterwarnings", line)
    pm = config.pluginmanager
    for module, name in ((parallel, "meterbench.parallel"), (triage, "meterbench.triage"),
                         (hub_returns, "meterbench.hub_returns")):
        if not pm.is_registered(module):
            pm.register(module, name)
    paths = parallel.bench_paths(config)
    try:
        if parallel.is_controller(config):  # runs no test: reads the bench, leases nothing
            config.stash[SESSION_KEY] = BenchSession.from_file(paths[0])
        else:
            config.stash[SESSION_KEY] = BenchSession.lease(
                paths, start=parallel.worker_index(config), purpose="pytest")
        if config.getoption("mb_time_scale") is not None:
            config.stash[SESSION_KEY].fast(config.getoption("mb_time_scale"))
        try:
            check_before_campaign(config.stash[SESSION_KEY])  # a bench mistake is no verdict
        except MeterbenchError:
            config.stash[SESSION_KEY].close()  # a lease is given back
            raise
        triage.start_run(config, config.stash[SESSION_KEY])
        if allure_wanted(config):  # allure-pytest writes results: shape them (else inert)
            from harness.plugin import allure_results

            allure_results.register(config)
    except BenchUnavailableError as exc:
        pytest.exit(f"meterbench: bench unavailable: {exc}", returncode=3)
    except MeterbenchError as exc:
        raise pytest.UsageError(str(exc)) from None


def allure_wanted(config: pytest.Config) -> bool:
    """Whether allure-pytest writes results in this run (``--alluredir``, plugin loaded)."""
    return bool(getattr(config.option, "allure_report_dir", None))


def session_of(config: pytest.Config) -> BenchSession:
    """The run's bench session (the run uses meterbench)."""
    return config.stash[SESSION_KEY]


def open_bench(session: BenchSession) -> Iterator[Bench]:
    """The ``bench`` fixture's work: open for the whole session, closed (safe) at its end."""
    try:
        opened = session.open(purpose="pytest")
    except MeterbenchError as exc:
        pytest.exit(f"meterbench: bench unavailable: {exc}", returncode=3)
    try:
        yield opened
    finally:
        session.close()


def header_lines(config: pytest.Config) -> list[str]:
    """The run's header: which bench, and who acts (the access gate)."""
    lines = [pytest_report_header(config), triage.gate_header(config)]
    return [line for line in lines if line]


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
