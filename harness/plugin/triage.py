"""Triage in pytest: devices (slots or a batch), records, measurements, access, verdicts.

Tests that take ``dut`` run once per device: each bench slot, or with ``--batch`` each row of
a manifest, presented in its slot in turn. Tests are ordered device by device, stage by
stage (the suites' file order), so a device's reset runs after its own diagnostics. At the
end each device's record is classified (``harness.triage.classify``) and its verdict printed
and, with ``--triage-json``, written one JSON object per line.
"""

from __future__ import annotations

import contextlib
import logging
import math
import sys
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from harness.bench.bench import Bench
from harness.bench.session import BenchSession
from harness.domain.types import DeviceType
from harness.drivers.optical.base import OpticalProbe
from harness.errors import (
    AccessDeniedError,
    InstrumentTimeoutError,
    MeterbenchError,
    ProtocolError,
)
from harness.plugin import parallel
from harness.plugin.device import Dut, Label
from harness.plugin.forward import forward
from harness.plugin.operator import Answer
from harness.plugin.triage_run import (
    _RUNS,
    COUNT_PROP,
    RUN_KEY,
    VERDICT_PROP,
    TriageRun,
    open_audit,
    open_operator,
    terminal,
)
from harness.results.store import ResultStore, ResultStoreError
from harness.triage import measurements
from harness.triage.audit import Outcome, discard_scratch_log
from harness.triage.audit_checkpoint import checkpoint_after_campaign
from harness.triage.gate import Gate
from harness.triage.intake import BatchRow, Generation, read_csv
from harness.triage.manifest import load_manifests
from harness.triage.record import TriageRecord

if TYPE_CHECKING:
    from pluggy import Result

SMKI_CLAUSES = ("TRI-RST-01", "TRI-VER-02")
"""The clauses about SMKI trust anchors, which a SMETS1 device does not have."""


def start_run(config: pytest.Config, session: BenchSession) -> None:
    """Build the run state from the options (called by the plugin once the bench is known)."""
    prompt_timeout = config.getoption("mb_prompt_timeout")
    if prompt_timeout is not None and not (math.isfinite(prompt_timeout) and prompt_timeout > 0):
        raise pytest.UsageError(f"--mb-prompt-timeout {prompt_timeout}: expected a number of "
                                "seconds above 0")
    manifests = load_manifests()
    if config.getoption("mb_manifest"):
        manifests = manifests.merged(load_manifests(config.getoption("mb_manifest")))
    run = TriageRun(session, "", "", manifests, worker=parallel.is_worker(config),
                    config=config)
    try:
        run.gate = Gate.open(session.config, role=config.getoption("mb_role"),
                             operator=config.getoption("mb_operator"), audit=run.audit_log,
                             fallback_supplier=config.getoption("mb_fallback_supplier"))
    except (MeterbenchError, AccessDeniedError) as exc:
        raise pytest.UsageError(str(exc)) from None
    run.role, run.operator = run.gate.role_name, run.gate.operator
    batch = config.getoption("mb_batch")
    if batch:
        try:
            run.rows = {f"item{row.item}": row for row in read_csv(batch, models=manifests)}
        except OSError as exc:
            raise pytest.UsageError(f"--batch {batch}: cannot read the batch manifest: "
                                    f"{exc.strerror or exc}") from None
        except MeterbenchError as exc:
            raise pytest.UsageError(f"--batch: {exc}") from None
        for key, row in run.rows.items():
            run.slot_for(key)  # a slot of its type and profile, or a usage error now
            if session.config.emulated and not_triaged(run, row) is None:
                _emulated_model(run, row)
                if row.seed is None:  # the emulator builds a device from it
                    raise pytest.UsageError(
                        f"--batch: item {row.item}: no seed: on an emulated bench each row "
                        "needs the emulator's seed column to build the device its label names")
    run.window = _window(config, batch)
    if config.getoption("mb_json"):
        run.json_path = Path(config.getoption("mb_json"))
    run.audit = open_audit(config, session)
    run.gate.watch_refusals()  # a driver's refusal (e.g. a probe called directly) is audited
    run.operator_io = open_operator(config, session)
    if config.getoption("mb_db"):
        try:
            run.store = ResultStore.open(config.getoption("mb_db"), create=True)
        except ResultStoreError as exc:
            raise pytest.UsageError(f"--db: {exc}") from None
        _own_bench(config, run)
        campaign = parallel.from_controller(config, "mb_campaign_id")
        if config.getoption("mb_campaign"):  # facility mode: hosts share a named campaign
            if parallel.is_worker(config) or getattr(config.option, "numprocesses", None):
                raise pytest.UsageError("--campaign runs one bench per host process: start a "
                                        "process per bench instead of workers")
            from harness.plugin import facility

            facility.join(config, run, config.getoption("mb_campaign"),
                          Path(batch).name if batch else "")
        elif campaign is not None:  # a worker: the controller started or resumed it
            run.campaign_id = campaign
            run.already_done = set(parallel.from_controller(config, "mb_skip_items") or ())
        else:
            done = (run.store.finished_campaign(session.config.bench.name, Path(batch).name)
                    if batch and not config.getoption("mb_again") else None)
            if done is not None:  # a finished batch is not triaged twice by mistake
                run.store.close()
                pytest.exit(done.nothing_to_do("--mb-again"), returncode=0)
            run.campaign_id = run.store.resume_or_start(
                bench=session.config.bench.name, operator=run.operator, role=run.role,
                batch_name=Path(batch).name if batch else "")
            run.already_done = run.store.done_items(run.campaign_id)
    config.stash[RUN_KEY] = run
    parallel.hand_to_workers(config, run.campaign_id, run.already_done)
    _RUNS[:] = [run]


def _window(config: pytest.Config, batch: str | None) -> tuple[int, int] | None:
    """``--mb-window START:STOP`` as (start, stop), or a usage error naming what is wrong."""
    text = config.getoption("mb_window")
    if text is None:
        return None
    start, sep, stop = str(text).partition(":")
    if not sep or not start.strip().isdigit() or not stop.strip().isdigit() \
            or int(start) >= int(stop):
        raise pytest.UsageError(f"--mb-window {text!r}: expected START:STOP, batch positions "
                                "from 0 with START below STOP (e.g. 0:250)")
    if not batch:
        raise pytest.UsageError("--mb-window goes with --mb-batch (it is a part of a batch)")
    if config.getoption("mb_campaign"):
        raise pytest.UsageError("--mb-window does not go with --mb-campaign (a facility's "
                                "hosts claim devices from the whole batch)")
    return int(start), int(stop)


def _own_bench(config: pytest.Config, run: TriageRun) -> None:
    """On a PostgreSQL store, own the bench in the whole facility (a physical bench, or any
    bench of a --campaign run): another host's run of it is refused, told who holds it."""
    from harness.results.bench_owner import FacilityBenchLock

    assert run.store is not None
    if parallel.is_controller(config) or not FacilityBenchLock.applies(run.store):
        return
    if run.session.config.emulated and not config.getoption("mb_campaign"):
        return  # emulated benches are private to their run (see BenchSession)
    run.bench_owner = FacilityBenchLock(run.store, run.session.config.bench.name,
                                        purpose="triage")
    try:
        run.bench_owner.acquire()
    except BaseException:
        run.bench_owner = None
        run.store.close()
        raise
    from harness.plugin.bench_live import PLUGIN_NAME, BenchLive

    config.pluginmanager.register(BenchLive(run), PLUGIN_NAME)  # stage and current, live


def parametrize(metafunc: pytest.Metafunc) -> None:
    """Run a test that asks for meterbench's ``dut`` once per device whose type it applies to
    (the entry module has checked the ``dut`` is meterbench's, not a project's own)."""
    run = metafunc.config.stash[RUN_KEY]
    marker = metafunc.definition.get_closest_marker("device_type")
    try:
        wanted = {DeviceType.parse(t) for t in marker.args} if marker else None
    except ValueError as exc:
        raise pytest.UsageError(f"@pytest.mark.device_type: {exc}") from None
    # a resumed campaign skips what it recorded; a window keeps its own devices
    keys = [k for k in run.session_keys() if wanted is None or run.device_type(k) in wanted]
    if not keys:
        types = ", ".join(sorted(t.name for t in wanted or ()))
        skip = pytest.mark.skip(reason=f"no device of type {types} on this run")
        metafunc.parametrize("dut", [pytest.param(None, marks=skip, id="no-device")],
                             indirect=True)
        return
    metafunc.parametrize("dut", keys, indirect=True, ids=keys)


def order_items(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Device by device, each in stage (file) order: a reset follows its own diagnostics."""
    run = config.stash.get(RUN_KEY, None)
    if run is None:
        return
    order = {key: i for i, key in enumerate(run.device_keys())}

    def device_index(item: pytest.Item) -> int:
        # Tests that do not take a device (bench-level checks) run after every device.
        key = _dut_key(item)
        return order.get(key, len(order)) if key is not None else len(order)

    items.sort(key=device_index)


def dut_fixture(request: pytest.FixtureRequest, bench: Bench) -> Iterator[Dut]:
    """The ``dut`` fixture's work: the device presented in its slot when its first test
    starts; a destructive test the role may not run is skipped early (see :func:`_gate`)."""
    run: TriageRun = request.config.stash[RUN_KEY]
    key = request.param
    if run.current != key:
        if run.current is not None:
            run.finish(run.current)
        if run.bench_owner is not None:  # what `meterbench status` shows on this bench
            run.bench_owner.set_device(key, run.campaign_id)
        run.duts[key] = _load(run, key, bench, request.config)
        run.current = key
    run.stage[key] = request.node.name
    outcome = run.duts[key].record.notes.get("operator_outcome")
    if outcome:
        if outcome["answer"] == "abort":
            run.finish(key)
            pytest.exit(f"campaign aborted at {key}: {outcome['why']}", returncode=2)
        pytest.skip(f"{outcome['answer']}: {outcome['why']}")
    _gate(request, run, run.duts[key])
    smki_not_applicable(request, run.duts[key])
    yield run.duts[key]


def _dut_key(item: pytest.Item | None) -> str | None:
    callspec = getattr(item, "callspec", None)
    key = callspec.params.get("dut") if callspec else None
    return key if isinstance(key, str) else None


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """A device's last test done (passed, failed or interrupted): bench safe, verdict given."""
    key = _dut_key(item)
    run = item.config.stash.get(RUN_KEY, None)
    if key is None or run is None or key not in run.duts or _dut_key(nextitem) == key:
        return
    session = run.session
    if session.bench is not None:
        session.bench.safe_state()
    run.finish(key)
    run.current = None


def _load(run: TriageRun, key: str, bench: Bench, config: pytest.Config) -> Dut:
    """Put the device in its slot (emulated bench; the operator on a physical one), read
    its label, and open its record."""
    slot_name = run.slot_for(key)
    slot = bench.slot(slot_name)
    row = run.rows.get(key)
    emulator = run.session.emulator
    skipped = not_triaged(run, row) if row is not None else None
    if row is not None and emulator is not None and skipped is None:
        from harness.emulator.world.population import device_from_row

        slot.power.off()
        emulator.present(slot_name, device_from_row(row, emulator.clock, slot=slot_name,
                                                    model=_emulated_model(run, row)))
    label = Label(None, None)
    loading = None
    # Facility mode claims the device just before this (harness.plugin.facility): on a
    # physical bench where the operator scans labels, the scan is the claim, through
    # FacilityLoop.claim_device with the scanned device's item key.
    if run.operator_io is not None and skipped is None:
        hint = (f"the {row.model} labelled {row.label_id or 'MPxN ' + row.mpxn}" if row
                else f"a {slot.device_type}")
        with terminal(config) if run.operator_io.uses_terminal else contextlib.nullcontext():
            loading = run.operator_io.load(key, slot_name, hint,
                                           "optical" in slot.config.instruments,
                                           inspect=run.device_type(key) is DeviceType.CHF)
        label = loading.label or label
    if row is not None:  # the manifest names the device and, where it has it, its code
        label = Label(row.label_id or label.serial, row.device_id or label.device_id,
                      row.install_code or label.install_code)
    record = TriageRecord(key=key, slot=slot_name, device_type=run.device_type(key).name,
                          label_id=label.serial, label_device_id=label.device_id,
                          operator=run.operator, role=run.role)
    if skipped is not None:
        record.notes["operator_outcome"] = {"answer": "skip", "why": skipped}
    if loading is not None:
        record.notes["prompts"] = list(loading.prompts)
        if loading.inspection is not None:
            record.notes["inspection"] = dict(loading.inspection)
        if loading.answer is not Answer.DONE:
            record.notes["operator_outcome"] = {"answer": loading.answer.value,
                                                "why": loading.why}
    optical = slot.config.instruments.get("optical")
    probe = bench.instruments.get(optical.instrument) if optical else None
    # The probe stays on the bench from device to device: count this device's errors only.
    record.notes["link_errors_at_start"] = getattr(probe, "link_errors", 0)
    return Dut(key, slot, record, row, label, manifests=run.manifests, gate=run.gate)


def not_triaged(run: TriageRun, row: BatchRow) -> str | None:
    """Why a returned device is recorded but not triaged (a SMETS1 model the catalogue gives
    no device profile: no route to it), or None."""
    found = run.manifests.lookup(row.model)
    if row.generation is Generation.SMETS1 and (found is None or found[1].profile is None):
        return (f"not triaged: SMETS1 model {row.model!r} has no device profile in the model "
                "catalogue (recorded as returned)")
    return None


def _emulated_model(run: TriageRun, row: BatchRow) -> str:
    """The emulated model that stands for a row's model on the emulated bench: the catalogue
    entry's name, or an alias or a reported model that the emulator has."""
    from harness.emulator.world.catalogue import MODELS

    found = run.manifests.lookup(row.model)
    names = found[1].names(found[0]) if found else [row.model]
    for name in names:
        if name in MODELS:
            return name
    raise pytest.UsageError(f"--batch: item {row.item}: model {row.model!r} has no emulated "
                            f"twin: the emulator has {', '.join(MODELS)}; give one in the "
                            "catalogue entry's reports_as")


def smki_not_applicable(request: pytest.FixtureRequest, dut_obj: Dut) -> None:
    """A SMETS1 device has no SMKI trust anchors: the anchor clauses are skipped as not
    applicable, with why (never passed)."""
    if dut_obj.row is None or dut_obj.row.generation is not Generation.SMETS1:
        return
    for clause in clause_ids(request.node):
        if clause in SMKI_CLAUSES:
            if clause not in dut_obj.record.not_applicable:
                dut_obj.record.not_applicable.append(clause)
            pytest.skip(f"{clause}: not applicable: SMETS1 has no SMKI trust anchors")


def _gate(request: pytest.FixtureRequest, run: TriageRun, dut_obj: Dut) -> None:
    """An early, friendly skip for a destructive test whose clause the role may not run.

    Not the check itself: that sits where the command is issued (the device profile's gate
    and the drivers' permits), so a test without markers is refused there just the same."""
    if request.node.get_closest_marker("destructive") is None:
        return
    for clause in clause_ids(request.node):
        try:
            if run.gate is None:
                raise AccessDeniedError(f"{clause} refused: the run has no access gate")
            run.gate.check(clause)
        except AccessDeniedError as exc:
            dut_obj.record.refused.append(clause)
            run.audit_entry(dut_obj, clause, Outcome.REFUSED, str(exc))
            pytest.skip(f"refused: {exc}")


def keep_transcripts(item: pytest.Item, texts: dict[str, str]) -> None:
    """Add what each instrument exchanged during a test to its device's transcript (stored
    with the device's result and linked from its report page)."""
    run = item.config.stash.get(RUN_KEY, None)
    key = _dut_key(item)
    if run is None or key not in run.duts or not texts:
        return
    for name, text in texts.items():
        run.transcripts.setdefault(key, []).append(f"===== {item.name} · {name} =====\n{text}")


def clause_ids(item: pytest.Item) -> list[str]:
    """The spec clauses a test proves (its ``spec`` markers)."""
    return [c for m in item.iter_markers("spec") for c in m.args]


def measure_fixture(request: pytest.FixtureRequest, dut: Dut
                    ) -> measurements.TestMeasurements:
    """The ``measure`` fixture's work: record measurements with their limits; one outside
    them is a finding, and the test fails once its body has run, naming every one
    (harness.triage.measurements)."""
    return measurements.for_test(request, dut.record, (clause_ids(request.node) or [""])[0])


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                              ) -> Generator[None, Result[pytest.TestReport], None]:
    """Charge an error to the device or to the bench, so the verdict says whose it was."""
    outcome = yield
    report = outcome.get_result()
    run = item.config.stash.get(RUN_KEY, None)
    key = _dut_key(item)
    if run is None or key is None or key not in run.duts:
        return
    while run.outbox:  # verdicts travel in reports, so an xdist controller sees them too
        report.user_properties.append((VERDICT_PROP, run.outbox.pop(0)))
    if call.when == "call" or (call.when == "setup" and report.skipped):
        _count(run, key, item, report)
    if call.when != "call":
        return
    record = run.duts[key].record
    # Which clauses ran on this device (a reset needs its diagnostics to have run).
    ran: list[str] = record.notes.setdefault("clauses_run", [])  # a list: stored as JSON
    ran += [c for c in clause_ids(item) if c not in ran]
    if call.excinfo is None:
        return
    exc = call.excinfo.value
    clause = (clause_ids(item) or ["?"])[0]
    if isinstance(exc, AccessDeniedError) and not hasattr(exc, "response"):
        # refused by the gate or a driver's permit check: says nothing about the device
        # (a DCC's own refusal, which carries its response, is judged below as before)
        record.refused.append(exc.context.get("clause") or exc.context.get("command")
                              or clause)
        return
    if isinstance(exc, MeterbenchError):
        optical = run.duts[key].slot.config.instruments.get("optical")
        where = exc.context.get("instrument")
        link_trouble = isinstance(exc, InstrumentTimeoutError | ProtocolError)
        on_probe = optical is not None and where == optical.instrument
        if on_probe or (where is None and link_trouble):  # the device's side of its port?
            charge_link_error(run.duts[key], clause, exc)
        elif where is not None:
            record.bench_errors.append(f"{clause}: {exc}")
    measurements = [m.describe() for m in record.measurements if m.clause == clause]
    if measurements:
        report.sections.append(("measurements", "\n".join(measurements)))


def port_answers(dut: Dut) -> str | None:
    """A fresh, idempotent data readout through the slot's probe: None when the port
    answered, else why not (the repeat a port fault needs, issue 14 §2)."""
    probe = dut.slot.instrument("optical") if "optical" in dut.slot.config.instruments else None
    if not isinstance(probe, OpticalProbe):
        return "the slot has no optical probe"
    try:
        probe.readout()
    except MeterbenchError as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def charge_link_error(dut: Dut, clause: str, exc: BaseException) -> bool:
    """Charge a timeout or garbled frame on the device's port to whom it belongs; True when
    it is the device's. A device the harness did not power, or whose port answers a fresh
    readout, had bench or transport trouble (INCONCLUSIVE with a bench reason); a FAULT
    needs the failure to repeat: on that readout, on a read retried after it, or as a second
    such failure in the same triage (TRI-OPT-01)."""
    record = dut.record
    what = f"{type(exc).__name__}: {exc}"
    try:
        powered = dut.power.is_on
    except MeterbenchError as supply_exc:
        record.bench_errors.append(f"{clause}: {what} (and the supply did not say whether "
                                   f"the device was powered: {supply_exc})")
        return False
    if not powered:
        record.bench_errors.append(f"{clause}: {what}: the harness had not powered the "
                                   "device (a stage run on its own?): not the device's")
        return False
    earlier: list[str] = record.notes.setdefault("port_trouble", [])
    again = record.notes.pop("port_repeat", None) or (
        f"after {len(earlier)} earlier link failure(s) in this triage" if earlier else None
    ) or port_answers(dut)
    if again is None:
        line = (f"{clause}: transport: {what} (the port answered a fresh readout: not "
                "repeated, not held against the device)")
        earlier.append(line)
        record.bench_errors.append(line)
        return False
    category = "optical port" if record.device_type in ("ESME", "GSME") else "hardware"
    record.find(clause, category, f"{what}; repeated: {again}")
    withdraw_port_trouble(dut)
    return True


def withdraw_port_trouble(dut: Dut) -> None:
    """The port's failures repeated, so those recorded as transport trouble were the
    device's after all: they leave the bench errors (the finding now carries them)."""
    earlier = dut.record.notes.get("port_trouble") or []
    dut.record.bench_errors[:] = [e for e in dut.record.bench_errors if e not in earlier]


def _count(run: TriageRun, key: str, item: pytest.Item, report: pytest.TestReport) -> None:
    """One clause outcome for the conformance report (a skip means "not assessed")."""
    dut = run.duts[key]
    model = (dut.record.identity.model if dut.record.identity
             else dut.row.model if dut.row else "unknown model")
    outcome = "passed" if report.passed else "failed" if report.failed else "not assessed"
    if report.skipped and "refused" in str(report.longrepr):
        return  # a refusal says nothing about the device
    for clause in clause_ids(item):
        report.user_properties.append(
            (COUNT_PROP, (model, dut.record.device_type, clause, outcome)))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Verdicts and clause outcomes, from this process's reports or an xdist worker's."""
    run = _RUNS[-1] if _RUNS else None
    if run is None or run.worker:
        return
    for name, value in report.user_properties:
        if name == VERDICT_PROP:
            assert isinstance(value, dict)  # a verdict line, as the outbox holds it
            _accept(run, value)
        elif name == COUNT_PROP:
            assert isinstance(value, tuple | list)  # (model, type, clause, outcome); a list
            run.conformance.add(*value)            # once it has come from an xdist worker


def _accept(run: TriageRun, line: dict) -> None:
    """A verdict line reaches the campaign's owner: stored and written first, then told to
    the users' hooks (``harness.plugin.newhooks``), whose failures are kept for the summary."""
    run.accept(line)
    if run.config is not None and not run.worker:
        run.hook_failures += forward(run.config, line, run.campaign_id)


def pytest_keyboard_interrupt(excinfo: pytest.ExceptionInfo[BaseException]) -> None:
    """Ctrl-C, SIGTERM or SIGHUP (not ``pytest.exit``): the device on the bench is interrupted."""
    run = _RUNS[-1] if _RUNS else None
    if run is not None and isinstance(excinfo.value, KeyboardInterrupt):
        run.interrupted = True


def pytest_sessionfinish(session: pytest.Session) -> None:
    run = session.config.stash.get(RUN_KEY, None)
    if run is not None and run.current is not None:
        # A device still on the bench at the end was cut short if the run was interrupted:
        # recorded as such (no verdict), so a resumed campaign triages it again.
        run.finish(run.current, interrupted=run.interrupted)
    if run is None or run.worker:
        return  # the controller finishes the campaign and writes the reports
    while run.outbox:  # an interrupted device's verdict had no report to ride in
        _accept(run, run.outbox.pop(0))
    if run.hook_failures and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED  # a result did not reach its place
    if run.store is not None and run.campaign_id is not None \
            and set(run.device_keys()) <= run.store.done_items(run.campaign_id):
        run.store.finish_campaign(run.campaign_id)  # every device recorded: nothing to resume
    path = session.config.getoption("mb_conformance")
    if path and run.conformance.types:
        Path(path).write_text(run.conformance.markdown())
    _checkpoint_audit(session, run)


def _checkpoint_audit(session: pytest.Session, run: TriageRun) -> None:
    """Anchor the audit log's head outside the database at the campaign's end (issue 12 §4),
    so a later rewrite or truncation of what this campaign did is caught by ``audit verify
    --checkpoint``; a log that no longer verifies is said loudly and fails the run."""
    if run.audit is None:
        return
    log = logging.getLogger("meterbench.audit")
    try:
        target = checkpoint_after_campaign(run.audit)
    except MeterbenchError as exc:
        sys.stderr.write(f"meterbench: audit checkpoint not written: {exc}\n")
        if session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        return
    log.info("audit log checkpoint appended to %s", target)


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    run = config.stash.get(RUN_KEY, None)
    if run is not None and run.hook_failures:
        terminalreporter.section("meterbench hook failures", red=True)
        for failure in run.hook_failures:
            terminalreporter.write_line(f"{failure} (the verdict is recorded)")
    if run is None or not run.summary:
        return
    terminalreporter.section("meterbench triage verdicts")
    for line in run.summary:
        category = f" {line['category']}" if line["category"] else ""
        reset = "reset" if line["reset"] else "not reset"
        terminalreporter.write_line(
            f"{line['item']:<10} {line['device_type']:<5} {line['device_id'] or '?':<17} "
            f"{line['verdict']}{category} ({reset}): {line['why']}")


def gate_header(config: pytest.Config) -> str | None:
    """Who acts in this run, as the access gate says."""
    run = config.stash.get(RUN_KEY, None)
    return run.gate.describe() if run is not None and run.gate is not None else None


def pytest_report_header(config: pytest.Config) -> str | None:
    return gate_header(config)


def pytest_unconfigure(config: pytest.Config) -> None:
    run = config.stash.get(RUN_KEY, None)
    if run is not None and run.bench_owner is not None:
        run.bench_owner.release()
    if run is not None and run.gate is not None:
        run.gate.close()
    if run is not None and run.audit is not None:
        discard_scratch_log(run.audit)  # closed; an emulated run's scratch log goes with it
    if run is not None and run.store is not None:
        run.store.close()  # a campaign of several sessions opens one store a session
    if run is not None and run in _RUNS:
        _RUNS.clear()
