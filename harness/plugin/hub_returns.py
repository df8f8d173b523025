"""pytest plugin half: send each triaged hub's DUIS return (``--mb-send-hub-returns``, opt-in).

Once the last device's tests are done, and before the bench closes, every Communications Hub
of the run whose verdict is recorded as FAULT or NO FAULT FOUND is returned through the
bench's DCC adapter: 8.14.3 with the verdict's CHFFaultReason, or 8.14.4
(``harness.triage.hub_returns``), under the run's access gate, and the hub's SMI status read
back (8.2) to say what the return did. Sending comes after the verdicts are recorded, so a
failure never loses one: each failure is said on stderr and the run exits 6
(:data:`EXIT_HUB_RETURN_NOT_SENT`); what was sent is listed. A campaign interrupted by a
signal sends nothing. One bench per run: with xdist workers each would hold its own DCC and
the controller could not report their failures, so the option refuses ``-n``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

import pytest

from harness.drivers.dcc.base import DccAdapter
from harness.drivers.dcc.service_requests import ServiceRequestsMixin, sends_service_requests
from harness.errors import AccessDeniedError, MeterbenchError
from harness.plugin import parallel
from harness.plugin.triage_run import RUN_KEY, TriageRun
from harness.triage.classify import VerdictKind
from harness.triage.hub_returns import (
    HubReturnError,
    hub_return,
    other_device_of,
    send_hub_return,
)

__all__ = ["EXIT_HUB_RETURN_NOT_SENT", "HUB_RETURNS", "HubReturns"]


@dataclass
class HubReturns:
    """What this run sent, and what it could not send (with why)."""

    sent: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    done: bool = False


HUB_RETURNS = pytest.StashKey[HubReturns]()

EXIT_HUB_RETURN_NOT_SENT = 6
"""Exit status of a run whose verdicts are recorded but a hub return was not sent (pytest's
own statuses are 0-5; a FAULT alone exits 1, so this one says what else went wrong)."""


def _wanted(config: pytest.Config) -> bool:
    return bool(config.getoption("mb_send_hub_returns", None))


def pytest_sessionstart(session: pytest.Session) -> None:
    """Refuse the option early where it cannot work: under xdist, or with no DCC."""
    config = session.config
    if not _wanted(config):
        return
    if parallel.is_worker(config) or parallel.is_controller(config):
        raise pytest.UsageError("--send-hub-returns (pytest: --mb-send-hub-returns) sends "
                                "through one bench's DCC: run it without --workers/-n")
    run = config.stash.get(RUN_KEY, None)
    if run is not None and not run.session.config.instruments_of("dcc"):
        raise pytest.UsageError(f"--send-hub-returns: bench {run.session.config.bench.name!r} "
                                "has no DCC adapter to send 8.14.3/8.14.4 through")
    config.stash[HUB_RETURNS] = HubReturns()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """After the last test, before the bench closes: record the last verdict, then send."""
    config = item.config
    returns = config.stash.get(HUB_RETURNS, None)
    run = config.stash.get(RUN_KEY, None)
    if nextitem is not None or returns is None or run is None or returns.done:
        return
    returns.done = True
    if run.interrupted:
        return
    if run.current is not None:
        run.finish(run.current)  # recorded (store, report line) before anything is sent
    send_all(run, returns, connection=config.getoption("mb_hub_connection", None),
             return_type=config.getoption("mb_hub_return_type", None),
             other_device=config.getoption("mb_hub_other_device", None))


def send_all(run: TriageRun, returns: HubReturns, *, connection: str | None,
             return_type: str | None, other_device: str | None = None) -> None:
    """Send the return of every hub of ``run`` with a FAULT or NO FAULT FOUND verdict
    (``other_device``: the ESME for 8.14.3, else the one the SMI lists at the hub)."""
    dcc: ServiceRequestsMixin | None = None
    for key, verdict in run.verdicts.items():
        dut = run.duts.get(key)
        if dut is None or dut.record.device_type != "CHF" or verdict.kind not in (
                VerdictKind.FAULT, VerdictKind.NO_FAULT_FOUND):
            continue
        record = dut.record
        hub_id = record.identity.device_id if record.identity else dut.label.device_id
        try:
            if hub_id is None:
                raise HubReturnError("the hub's EUI-64 is unknown (not identified, no label)")
            if run.gate is None:
                raise AccessDeniedError("the run has no access gate")
            dcc = dcc or _dcc(run)
            row = run.rows.get(key)
            other = other_device or (other_device_of(dcc, hub_id)
                                     if verdict.kind is VerdictKind.FAULT else None)
            hub = hub_return(hub_id, verdict,
                             return_type=row.return_type if row is not None else return_type,
                             return_reason=row.return_reason if row is not None else None,
                             connection_method=connection, other_device_id=other)
            if hub is None:
                continue
            response = send_hub_return(dcc, run.gate, hub)
        except (HubReturnError, MeterbenchError) as exc:
            returns.failed.append(f"{key}: hub return not sent: {type(exc).__name__}: {exc}")
            continue
        try:  # what the SMI says now (8.2): the return's effect, as the DCC records it
            now = f"SMI status now {dcc.inventory_status(hub.device_id)}"
        except MeterbenchError as exc:
            now = f"SMI status not read back: {exc}"
        returns.sent.append(f"{key}: {hub.describe()}: {response.response_code}; {now}")


def _hubs_due(run: TriageRun) -> bool:
    """Whether some hub of ``run`` has a verdict that calls for a return, or is still on the
    bench (its verdict is given at the session's end)."""
    current = run.duts.get(run.current) if run.current is not None else None
    if current is not None and current.record.device_type == "CHF":
        return True
    return any(key in run.duts and run.duts[key].record.device_type == "CHF"
               and verdict.kind in (VerdictKind.FAULT, VerdictKind.NO_FAULT_FOUND)
               for key, verdict in run.verdicts.items())


def _dcc(run: TriageRun) -> ServiceRequestsMixin:
    """The bench's DCC adapter (the first, when it has several)."""
    bench = run.session.bench
    if bench is None:
        raise MeterbenchError("the bench is closed")
    name = sorted(run.session.config.instruments_of("dcc"))[0]
    adapter = bench.instrument(name, DccAdapter)
    if not sends_service_requests(adapter):
        raise MeterbenchError(f"DCC adapter {name!r} does not send Service Requests")
    return adapter


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Say what was sent and what was not; a return not sent fails the run."""
    returns = session.config.stash.get(HUB_RETURNS, None)
    if returns is None:
        return
    run = session.config.stash.get(RUN_KEY, None)
    if not returns.done and run is not None and not run.interrupted and _hubs_due(run):
        returns.done = True  # stopped before its last test (e.g. -x): the bench is closed
        returns.failed.append("no hub return sent: the run stopped before its last test")
    for line in returns.sent:
        sys.stderr.write(f"meterbench: hub return sent: {line}\n")
    for line in returns.failed:
        sys.stderr.write(f"meterbench: {line} (the verdict is recorded)\n")
    if returns.failed and session.exitstatus in (pytest.ExitCode.OK,
                                                 pytest.ExitCode.TESTS_FAILED):
        session.exitstatus = EXIT_HUB_RETURN_NOT_SENT
