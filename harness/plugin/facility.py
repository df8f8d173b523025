"""Facility mode in pytest: this host joins a named campaign and triages the devices it claims.

``--mb-campaign NAME`` (with ``--mb-db`` and ``--mb-batch``) replaces pytest's run loop with
one that goes through the devices in batch order and, just before a device's first test,
claims it from the campaign's shared queue (``harness.results.facility``): a device another
host holds is passed over and looked at again later, one already triaged is left out, and a
device whose holder died comes back once its lease expires. The host's claims are renewed by
a background thread while it lives. When no device is left to claim the host waits for the
ones other hosts hold, so the last host standing finishes the batch.

On a physical bench the claim is what the operator's label scan does: :meth:`FacilityLoop.
claim_device` is the hook a scanning station calls with the scanned device's item key.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TYPE_CHECKING

import pytest

from harness.results.facility import DEFAULT_LEASE_S, Claim, Facility, FacilityError, Outcome

if TYPE_CHECKING:
    from harness.plugin.triage_run import TriageRun

PLUGIN_NAME = "meterbench-facility"


def join(config: pytest.Config, run: TriageRun, name: str, batch_name: str) -> None:
    """Join campaign ``name`` for this run (its queue made from the batch) and take over the
    run loop; a usage error says why it cannot be joined."""
    if run.store is None:
        raise pytest.UsageError("--campaign needs --db: the campaign's queue is in the store")
    if not run.rows:
        raise pytest.UsageError("--campaign needs --batch: a facility campaign works a batch")
    lease = config.getoption("mb_lease")
    facility = None
    try:
        facility = Facility(run.store, bench=run.session.config.bench.name,
                            lease_s=DEFAULT_LEASE_S if lease is None else lease)
        run.campaign_id = facility.join(name, batch_name=batch_name, keys=run.device_keys(),
                                        operator=run.operator, role=run.role)
    except FacilityError as exc:
        raise pytest.UsageError(f"--campaign: {exc}") from None
    run.facility = facility
    if run.bench_owner is not None:  # the facility sees which campaign the bench works
        run.bench_owner.set_device(None, run.campaign_id)
    run.already_done = run.store.done_items(run.campaign_id)
    config.pluginmanager.register(FacilityLoop(run, facility), PLUGIN_NAME)


def _dut_key(item: pytest.Item) -> str | None:
    callspec = getattr(item, "callspec", None)
    key = callspec.params.get("dut") if callspec else None
    return key if isinstance(key, str) else None


class Renewer:
    """A daemon thread renewing this host's leases every third of the lease (a host that
    dies stops renewing, which is how the others learn it)."""

    def __init__(self, facility: Facility) -> None:
        self.facility = facility
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="meterbench-lease", daemon=True)

    def start(self) -> None:
        """Start renewing."""
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.facility.lease_s / 3):
            try:
                self.facility.renew()
            except Exception as exc:  # the database is away: tried again next period
                sys.stderr.write(f"meterbench: lease renewal failed: {exc}\n")

    def stop(self) -> None:
        """Stop renewing (the claims are released or left to expire)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)


class FacilityLoop:
    """The run loop of a facility host: claim, triage, repeat; then wait for the others."""

    def __init__(self, run: TriageRun, facility: Facility) -> None:
        self.run = run
        self.facility = facility
        self.claims: list[Claim] = []  # every claim this host made (CLAIMED ones)

    def claim_device(self, key: str) -> Claim:
        """Claim one device for this host (the label scan's hook on a physical bench)."""
        claim = self.facility.claim(key)
        if claim.outcome is Outcome.CLAIMED:
            self.claims.append(claim)
            if claim.retaken_from:
                sys.stderr.write(f"meterbench: {key}: claimed again from {claim.retaken_from} "
                                 "(its lease expired: that attempt is not counted)\n")
        return claim

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> object:
        """Run the devices this host claims, device by device, then the bench-level tests."""
        if session.testsfailed and not session.config.option.continue_on_collection_errors:
            raise session.Interrupted(f"{session.testsfailed} error(s) during collection")
        if session.config.option.collectonly:
            return None
        groups: dict[str, list[pytest.Item]] = {}
        rest: list[pytest.Item] = []
        for item in session.items:
            key = _dut_key(item)
            (groups.setdefault(key, []) if key is not None else rest).append(item)
        pending = list(groups)
        poll = min(1.0, self.facility.lease_s / 4)
        renewer = Renewer(self.facility)
        renewer.start()
        try:
            while pending:
                key = None
                for candidate in list(pending):  # batch order: the first one claimable
                    if self._take(candidate, pending):
                        key = candidate
                        break
                if key is None:
                    if pending:  # every one left is held by a live host: wait for it
                        time.sleep(poll)
                    continue
                pending.remove(key)
                after = groups[pending[0]][0] if pending else (rest[0] if rest else None)
                self._run_items(session, groups[key], after)
            self._run_items(session, rest, None)
        finally:
            renewer.stop()
        return True

    def _take(self, key: str, pending: list[str]) -> bool:
        """Claim ``key``: True when this host now triages it (a device done elsewhere leaves
        the pending list)."""
        claim = self.claim_device(key)
        if claim.outcome is Outcome.DONE:
            pending.remove(key)
        return claim.outcome is Outcome.CLAIMED

    @staticmethod
    def _run_items(session: pytest.Session, items: list[pytest.Item],
                   after: pytest.Item | None) -> None:
        """Run ``items`` in order; ``after`` is the item expected to follow the last one (the
        fixtures it shares, the bench above all, stay set up)."""
        if items:  # what the previous device kept set up and this one does not use goes now
            session._setupstate.teardown_exact(items[0])
        for i, item in enumerate(items):
            nextitem = items[i + 1] if i + 1 < len(items) else after
            item.config.hook.pytest_runtest_protocol(item=item, nextitem=nextitem)
            if session.shouldfail:
                raise session.Failed(session.shouldfail)
            if session.shouldstop:
                raise session.Interrupted(session.shouldstop)
