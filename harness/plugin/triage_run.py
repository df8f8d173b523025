"""The state of one triage run: who runs it, which devices, their records and verdicts, and
how a verdict leaves the process (results store, reports, JSON), plus who loads the devices
and where destructive steps are audited. The pytest hooks that drive it are in
``harness.plugin.triage``.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from harness.bench.session import BenchSession
from harness.domain.types import DeviceType
from harness.plugin import parallel
from harness.plugin.conformance import Conformance
from harness.plugin.device import Dut
from harness.plugin.operator import ConsoleOperator, EmulatedOperator, Operator
from harness.plugin.options import DEFAULT_PROMPT_TIMEOUT
from harness.plugin.web_operator import WebOperator
from harness.results.bench_owner import FacilityBenchLock
from harness.results.facility import Facility
from harness.results.store import EMULATED, PHYSICAL, ResultStore
from harness.triage.audit import (
    DEFAULT_DB_URL,
    AuditLog,
    AuditLogError,
    AuditLogMissingError,
    Outcome,
    open_scratch_log,
)
from harness.triage.classify import Verdict, VerdictKind, classify
from harness.triage.gate import Gate
from harness.triage.intake import BatchRow
from harness.triage.manifest import Manifests

RUN_KEY = pytest.StashKey["TriageRun"]()
VERDICT_PROP = "meterbench.verdict"  # a report's user property carrying a device's verdict
COUNT_PROP = "meterbench.conformance"  # one clause outcome for the conformance report
_RUNS: list[TriageRun] = []  # the current run, for hooks that get no config


@dataclass
class TriageRun:
    """Per-session triage state: who runs it, which devices, their records and verdicts."""

    session: BenchSession
    role: str
    operator: str
    manifests: Manifests
    rows: dict[str, BatchRow] = field(default_factory=dict)
    window: tuple[int, int] | None = None  # --mb-window: batch positions triaged this session
    duts: dict[str, Dut] = field(default_factory=dict)
    verdicts: dict[str, Verdict] = field(default_factory=dict)
    current: str | None = None
    json_path: Path | None = None
    audit: AuditLog | None = None
    conformance: Conformance = field(default_factory=Conformance)
    operator_io: Operator | None = None  # None: devices in place, labels from the manifest
    transcripts: dict[str, list[str]] = field(default_factory=dict)  # device -> exchanges
    store: ResultStore | None = None
    campaign_id: int | None = None
    already_done: set[str] = field(default_factory=set)
    facility: Facility | None = None  # facility mode (--mb-campaign): this host's claims
    bench_owner: FacilityBenchLock | None = None  # the bench owned facility-wide (PostgreSQL)
    worker: bool = False  # an xdist worker: its verdicts reach the controller in its reports
    outbox: list[dict] = field(default_factory=list)  # verdict lines not yet in a report
    summary: list[dict] = field(default_factory=list)  # verdict lines, as the reports brought
    interrupted: bool = False  # Ctrl-C, SIGTERM or SIGHUP stopped the run
    stage: dict[str, str] = field(default_factory=dict)  # device -> the test it is at
    gate: Gate | None = None  # the access gate every device profile is given
    # whose hooks hear of each verdict (harness.plugin.newhooks)
    config: pytest.Config | None = None
    hook_failures: list[str] = field(default_factory=list)  # what users' hooks raised

    def audit_log(self) -> AuditLog | None:
        """The run's audit log; an emulated run without --audit-db gets a scratch one, made
        when first needed (a physical bench always has one: ``open_audit``)."""
        if self.audit is None and self.session.private:
            self.audit = open_scratch_log()  # a scratch key beside it
        return self.audit

    def audit_entry(self, dut: Dut, clause: str, outcome: Outcome, detail: str = "") -> None:
        """One audit line for a destructive clause on a device (done, failed or refused)."""
        log = self.audit_log()
        if log is None:
            return
        record = dut.record
        log.append(
            operator=self.operator, role=self.role, action=clause, outcome=outcome,
            bench=self.session.config.bench.name, clause=clause,
            device_id=record.identity.device_id if record.identity else dut.label.device_id,
            detail={"item": dut.key, "slot": dut.slot.name, "why": detail} if detail else
            {"item": dut.key, "slot": dut.slot.name},
        )

    def device_keys(self) -> list[str]:
        """Every device of the run: batch items, or the bench's slots."""
        return list(self.rows) if self.rows else list(self.session.config.slots)

    def session_keys(self) -> list[str]:
        """The devices this pytest session triages: every device of the run, or those of its
        ``--mb-window``; either way less those already done (a resumed campaign)."""
        keys = self.device_keys()
        if self.window is not None:
            keys = keys[self.window[0]:self.window[1]]
        return [key for key in keys if key not in self.already_done]

    def device_type(self, key: str) -> DeviceType:
        """The device type of ``key``."""
        row = self.rows.get(key)
        return row.device_type if row else self.session.config.slots[key].device_type

    def slot_for(self, key: str) -> str:
        """The slot a device goes in: its own in slot mode, in a batch the first of its type
        running the device profile its catalogue entry names (any profile when none)."""
        if key not in self.rows:
            return key
        row = self.rows[key]
        kind = row.device_type
        entry = self.manifests.for_model(row.model)
        profile = entry.profile if entry else None
        for name, slot in self.session.config.slots.items():
            if slot.device_type is kind and (profile is None or profile in slot.all_profiles):
                return name
        needs = f" with profile {profile!r} (model {row.model!r})" if profile else ""
        raise pytest.UsageError(f"batch {key}: the bench has no slot for a {kind.name}{needs}")

    def finish(self, key: str, *, interrupted: bool = False) -> Verdict:
        """Classify a device and write its verdict out (once); a device whose triage was
        ``interrupted`` is written out as INTERRUPTED instead: no verdict, redone on resume."""
        if key in self.verdicts:
            return self.verdicts[key]
        dut = self.duts[key]
        if interrupted:
            stage = self.stage.get(key, "")
            verdict = Verdict(VerdictKind.INTERRUPTED, why="triage interrupted"
                              + (f" at {stage}" if stage else "")
                              + ": not a verdict; triaged again when the campaign resumes")
        else:
            verdict = classify(dut.record)
        self.verdicts[key] = verdict
        if self.store is not None and self.campaign_id is not None:  # committed now
            self.store.record(self.campaign_id, dut.record, verdict,
                              transcript="\n".join(self.transcripts.pop(key, [])) or None,
                              bench=self.session.config.bench.name,
                              return_date=dut.row.return_date if dut.row else None,
                              generation=dut.row.generation.value if dut.row else None,
                              mpxn=(dut.row.mpxn or None) if dut.row else None,
                              bench_kind=EMULATED if self.session.config.emulated
                              else PHYSICAL)
        if self.facility is not None:  # recorded: the device leaves the facility's queue
            self.facility.release(key, done=not interrupted)
        line = {"item": key, "device_type": dut.record.device_type,
                "device_id": dut.record.identity.device_id if dut.record.identity else
                dut.label.device_id, **verdict.as_dict(),
                "bench": self.session.config.bench.name,
                "measurements": dut.record.as_dict()["measurements"],
                "findings": dut.record.as_dict()["findings"]}
        self.outbox.append(json.loads(json.dumps(line, default=str)))  # plain, for xdist
        return verdict

    def accept(self, line: dict) -> None:
        """A verdict as the reports bring it (from this process or a worker): summary, JSON."""
        if self.worker:
            return  # the controller writes them
        self.summary.append(line)
        if self.json_path is not None:
            with self.json_path.open("a") as out:
                out.write(json.dumps(line) + "\n")



@contextlib.contextmanager
def terminal(config: pytest.Config) -> Iterator[None]:
    """The real terminal, input included, for the length of a prompt (pytest's global
    capture takes stdin too; ``global_and_fixture_disabled`` would leave it taken)."""
    config.hook.pytest_meterbench_terminal(config=config, taken=True)  # live displays pause
    try:
        capture = config.pluginmanager.getplugin("capturemanager")
        if capture is None or not capture.is_globally_capturing():
            yield
            return
        capture.suspend_global_capture(in_=True)
        try:
            yield
        finally:
            capture.resume_global_capture()
    finally:
        config.hook.pytest_meterbench_terminal(config=config, taken=False)


def open_operator(config: pytest.Config, session: BenchSession) -> Operator | None:
    """Who loads the devices: the person at the operator console that started the run, the
    emulated bench itself, or the person at the terminal."""
    timeout = config.getoption("mb_prompt_timeout")
    web = WebOperator.from_env(session, DEFAULT_PROMPT_TIMEOUT if timeout is None else timeout)
    if web is not None and not config.getoption("mb_no_prompts"):
        return web
    if session.private:
        return EmulatedOperator(session)
    if config.getoption("mb_no_prompts"):
        return None
    if parallel.is_worker(config) or parallel.is_controller(config):
        raise pytest.UsageError(
            "operator prompts need the terminal: on a physical bench run one campaign per "
            "bench (no --workers/-n), or pass --no-prompts (pytest: --mb-no-prompts) for "
            "devices already in place")
    return ConsoleOperator(DEFAULT_PROMPT_TIMEOUT if timeout is None else timeout)


def open_audit(config: pytest.Config, session: BenchSession) -> AuditLog | None:
    """The audit log: never created behind the operator's back, except for an emulated run
    (whose scratch log is made when the first destructive step is audited)."""
    url = config.getoption("mb_audit")
    if url is None and session.private:
        return None
    try:
        log = AuditLog.open(url or DEFAULT_DB_URL)
    except AuditLogMissingError as exc:
        raise pytest.UsageError(f"{exc}; create it once with: meterbench audit init "
                                f"--db {url or DEFAULT_DB_URL}") from None
    except AuditLogError as exc:
        raise pytest.UsageError(str(exc)) from None
    try:
        log.key  # noqa: B018  # no key: refuse before anything goes on the wire
    except AuditLogError as exc:
        log.close()
        raise pytest.UsageError(str(exc)) from None
    return log
