"""``meterbench triage``: the main job — a campaign over a batch, with live progress.

Runs the triage suites (``pytest test_suites``; the wheel's ``harness.suites``) in process,
one device after the other or on several benches at once (``--workers``), with the rich
progress display and a summary table at the end. On an all-emulated bench without
``--batch`` it triages a generated returned-device population (deterministic for a seed, so
``--db`` resumes it).

Ctrl-C, SIGTERM or SIGHUP stop the campaign safely (the bench reaches its safe state first):
the device on the bench is recorded as INTERRUPTED (no verdict, triaged again on resume), the
summary says the campaign was interrupted and prints the command that resumes it, and the
exit status is 130.
"""

from __future__ import annotations

import json
import shlex
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from harness.bench.preflight import check_before_campaign
from harness.bench.safety import EXIT_INTERRUPTED
from harness.bench.session import BenchSession
from harness.cli.batch import MAX_SEED, MAX_SIZE
from harness.cli.errors import EXIT_UNAVAILABLE, EXIT_USAGE, error_line, finite, usage_error
from harness.config.catalogue import load_catalogue
from harness.config.models import MAX_TIME_SCALE
from harness.errors import MeterbenchError
from harness.results.store import check_db_url
from harness.triage.audit_db import hide_password
from harness.triage.intake import read_csv, write_csv

if TYPE_CHECKING:
    from harness.cli.pytest_bridge import CampaignStart, StopReasons

MAX_WORKERS = 64
"""The most benches one campaign drives at once (each worker is a process with a bench)."""
SEGMENT = 200
"""Devices per pytest session of a long batch (harness.cli.segments): a worker holds about
0.15 MB a device while its session lasts, so 200 keep every process far under 300 MB."""
VERDICT_KEYS = ("item", "device_id", "device_type", "verdict", "category", "reset",
                "duis_return_reason", "why", "measurements")


def triage_command(
    ctx: typer.Context,
    bench: Annotated[list[Path] | None, typer.Option(
        "--bench", "-b", help="Bench file (default: the emulated bench); repeat it to give "
                              "each worker a bench of its own.")] = None,
    batch: Annotated[Path | None, typer.Option(
        "--batch", help="Batch manifest (CSV) to triage device by device.")] = None,
    devices: Annotated[int, typer.Option(
        "--devices", min=1, max=MAX_SIZE,
        help="Emulated bench without --batch: size of the generated returned-device "
             "population.")] = 20,
    seed: Annotated[int, typer.Option(
        "--seed", min=0, max=MAX_SEED,
        help="Seed of the generated population (same seed, same batch).")] = 0,
    slots: Annotated[bool, typer.Option(
        "--slots", help="Triage the devices in the bench's slots instead of a batch.")] = False,
    role: Annotated[str | None, typer.Option(
        "--role", help="Operator role: supplier, rsa, map or manufacturer; only narrows what "
                       "the site access file grants you (default: the site's first grant).")
    ] = None,
    operator: Annotated[str | None, typer.Option("--operator", help="Operator name.")] = None,
    workers: Annotated[int, typer.Option(
        "--workers", "-n", min=1, max=MAX_WORKERS,
        help="Benches in parallel (pytest-xdist workers).")] = 1,
    time_scale: Annotated[float | None, typer.Option(
        "--time-scale", min=1.0, max=MAX_TIME_SCALE, callback=finite,
        help="Fast mode (all-emulated benches): devices run N times faster.")] = None,
    as_json: Annotated[bool, typer.Option(
        "--json", help="Print one JSON object per device (verdict, category, reset).")] = False,
    plain: Annotated[bool, typer.Option(
        "--plain", help="pytest's own output instead of the progress display.")] = False,
    conformance: Annotated[Path | None, typer.Option(
        "--conformance", help="Write the per-model conformance report (Markdown).")] = None,
    db: Annotated[str | None, typer.Option(
        "--db", help="Results store URL; a batch re-run resumes where it stopped.")] = None,
    again: Annotated[bool, typer.Option(
        "--again", help="With --db: triage a batch again that a finished campaign on this "
                        "bench triaged (a new campaign; the earlier results are kept). "
                        "Without it such a run does nothing and says so.")] = False,
    campaign: Annotated[str | None, typer.Option(
        "--campaign", help="Facility mode (with a PostgreSQL --db and --batch): join the "
                           "campaign NAME that other bench hosts work too; each device is "
                           "claimed from its shared queue, so the facility triages it once.")
    ] = None,
    lease: Annotated[float | None, typer.Option(
        "--lease", min=1.0, callback=finite,
        help="With --campaign: seconds a claim outlives its host's last renewal (default "
             "120); the device of a host that died is claimed again after it.")] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", "-o",
        help="Folder for JUnit XML, Allure results, verdicts and conformance.")] = None,
    audit_db: Annotated[str | None, typer.Option(
        "--audit-db", help="Audit log of destructive operations (default: "
                           "sqlite:///meterbench.db; an emulated run audits to a temporary "
                           "log).")] = None,
    manifest: Annotated[Path | None, typer.Option(
        "--manifest", help="The lab's model catalogue (TOML or YAML: models, aliases, "
                           "profiles, facts), added to the shipped one.")] = None,
    no_prompts: Annotated[bool, typer.Option(
        "--no-prompts", help="Physical bench: devices are already in their slots, labels come "
                             "from the batch manifest.")] = False,
    prompt_timeout: Annotated[float | None, typer.Option(
        "--prompt-timeout", min=0.001, callback=finite,
        help="Physical bench: seconds to wait for each operator prompt (default 300).")] = None,
    send_hub_returns: Annotated[bool, typer.Option(
        "--send-hub-returns",
        help="Bench with a DCC: once the verdicts are recorded, return each hub found FAULT "
             "(DUIS 8.14.3, with its CHFFaultReason) or NO FAULT FOUND (8.14.4); a supplier "
             "sends them (another role only with --fallback-supplier, audited).")] = False,
    hub_other_device: Annotated[str | None, typer.Option(
        "--hub-other-device", help="The ESME a returned hub was seated on (8.14.3 "
                                   "OtherDeviceID) when the SMI lists none at the hub.")] = None,
    fallback_supplier: Annotated[bool, typer.Option(
        "--fallback-supplier", help="Make a request the acting role may not make (a hub's "
                                    "return, the duis profile's install) with the Supplier's "
                                    "credentials instead (audited).")] = False,
    hub_connection: Annotated[str | None, typer.Option(
        "--hub-connection", help="How the returned hubs were connected: cradle, esme or "
                                 "hot-shoe (8.14.3 CHFConnectionMethod).")] = None,
    hub_return_type: Annotated[str | None, typer.Option(
        "--hub-return-type", help="'prior to installation' or 'post installation': the 8.14.3 "
                                  "return type of hubs the manifest gives none for.")] = None,
    segment: Annotated[int, typer.Option(
        "--segment", min=0, max=MAX_SIZE,
        help="A batch longer than this runs as consecutive pytest sessions of this many "
             "devices (one campaign: one store, summary and report), so memory stays flat "
             "however long the batch; 0: one session.")] = SEGMENT,
    exit_zero_on_fault: Annotated[bool, typer.Option(
        "--exit-zero-on-fault",
        help="Exit 0 when the campaign ran to its end and every device is FAULT or NO FAULT "
             "FOUND (a FAULT is then a normal outcome for a script); any other verdict, an "
             "error or an interrupt keeps its status.")] = False,
) -> None:
    """Triage every device of a batch (or on a bench) by running the triage suites.

    Arguments after -- go to pytest (e.g. -k, -x, --alluredir).
    """
    import pytest

    from harness.cli.progress import CampaignProgress
    from harness.cli.pytest_bridge import (
        CampaignStart,
        PytestUsageError,
        StopReasons,
        suites_dir,
    )
    from harness.cli.segments import CarryOver, done_items, plan, run_sessions

    stderr = Console(stderr=True)
    benches = list(bench or [])
    session, keys = _check_inputs(benches, batch, time_scale, db, out, conformance, manifest)
    _check_population_options(ctx, session, batch, slots)
    # Hypothesis's pytest plugin imports all of hypothesis for its summary: no triage suite
    # uses it, and every process of a run (each worker's too) paid the import.
    args = [str(suites_dir()), "-p", "no:cacheprovider", "-p", "no:hypothesispytest"]
    access = _check_access(session, role, operator)
    if role is not None:
        args += ["--mb-role", role]
    for path in benches:
        args += ["--mb-bench", str(path)]
    if operator:
        args += ["--mb-operator", operator]
    if time_scale is not None:
        args += ["--mb-time-scale", str(time_scale)]
    if workers > 1:
        args += ["-n", str(workers)]
    if conformance is not None:
        args += ["--mb-conformance", str(conformance)]
    if db is not None:
        args += ["--mb-db", db]
    if again:
        if db is None:
            usage_error("--again goes with --db (without a store every run triages anew)")
        args += ["--mb-again"]
    if campaign is not None:
        if db is None or batch is None:
            usage_error("--campaign goes with --db and --batch (the queue is the batch, kept "
                        "in the store)")
        if workers > 1:
            usage_error("--campaign runs one bench per host process: start one "
                        "`meterbench triage --campaign` per bench instead of --workers")
        args += ["--mb-campaign", campaign]
    if lease is not None:
        if campaign is None:
            usage_error("--lease goes with --campaign")
        args += ["--mb-lease", str(lease)]
    if audit_db is not None:
        args += ["--mb-audit-db", audit_db]
    if manifest is not None:
        args += ["--mb-manifest", str(manifest)]
    if no_prompts:
        args += ["--mb-no-prompts"]
    if prompt_timeout is not None:
        args += ["--mb-prompt-timeout", str(prompt_timeout)]
    args += _hub_return_args(send_hub_returns, hub_connection, hub_return_type, workers)
    if hub_other_device is not None:
        if not send_hub_returns:
            usage_error("--hub-other-device goes with --send-hub-returns")
        from harness.domain.eui64 import normalise_eui64

        try:
            args += ["--mb-hub-other-device", normalise_eui64(hub_other_device)]
        except ValueError as exc:
            usage_error(f"--hub-other-device {hub_other_device!r}: {exc}")
    if fallback_supplier:
        args += ["--mb-fallback-supplier"]
    if out is not None:  # what CI systems and Allure users read, beside the verdicts
        _make_out(out)
        args += ["--alluredir", str(out / "allure-results")]  # JUnit XML: run_sessions
        if conformance is None:
            args += ["--mb-conformance", str(out / "conformance.md")]
    with tempfile.TemporaryDirectory() as tmp:
        work = out or Path(tmp)
        starting = CampaignStart(stderr, work / "verdicts.jsonl")
        if access:  # the run header: said once the campaign starts, never before an error
            starting.notes.append(access)
        if session.config.emulated:  # never mistaken for a lab's returns
            which = "no --bench given: the built-in emulated bench" if not benches else \
                f"emulated bench {session.config.bench.name}"
            starting.notes.append(f"EMULATED: {which}; emulated devices, not returned ones"
                                  + ("; their results are stored marked emulated"
                                     if db is not None else ""))
        if batch is None and not slots:
            generated = _generated_batch(session, work, devices, seed, starting)
            if generated is not None:
                batch, keys = generated
        if batch is not None:
            args += ["--mb-batch", str(batch)]
            if db is not None and not again and campaign is None:
                _nothing_to_do(db, session.config.bench.name, batch.name, stderr)
        args += ["--mb-triage-json", str(starting.verdicts)]
        watch, stops = InterruptWatch(), StopReasons()
        plugins: list[object] = [starting, watch, stops, CarryOver()]
        progress = None
        if not plain:
            args += ["-q", "--no-header", "--no-summary", "-p", "no:terminalreporter"]
            if not any(arg == "--tb" or arg.startswith("--tb=") for arg in ctx.args):
                # Nobody reads a traceback off the progress display; a failing device's own
                # assertion then costs its message and place (junit.xml keeps them), not a
                # parse of its suite's source (8 ms a device: ``--plain`` shows them all).
                args += ["--tb=line"]
            progress = CampaignProgress()  # on the terminal past pytest's capture
            plugins.append(progress)
        sessions = [[]] if batch is None or plain or campaign is not None else plan(
            keys, segment, done_items(db, session.config.bench.name, batch.name), ctx.args)
        try:
            code = run_sessions(
                lambda more: int(pytest.main([*more, *ctx.args], plugins=plugins)), args,
                sessions, out / "junit.xml" if out is not None else None,
                progress.hold if progress is not None else lambda _: None)
        except PytestUsageError as exc:
            if progress is not None:
                progress.stop()  # the display lets go of stderr before the error is said
            usage_error(str(exc))
        except KeyboardInterrupt:  # a signal after pytest's own handling: still interrupted
            watch.interrupted, code = True, EXIT_INTERRUPTED
        finally:
            if progress is not None:
                progress.stop()
        if progress is not None and not watch.interrupted:  # pytest's own report was off
            _say_why_it_stopped(stops, code)
        if code == pytest.ExitCode.USAGE_ERROR and not watch.interrupted:  # pytest said why
            raise typer.Exit(EXIT_USAGE)
        if code == pytest.ExitCode.NO_TESTS_COLLECTED:
            usage_error("no triage test was selected (check the pytest arguments after --)")
        verdicts = starting.verdicts
        if code == EXIT_UNAVAILABLE and (progress is None or not progress.done):
            raise typer.Exit(code)  # pytest said why in one line; there is nothing to sum up
        ran = progress is not None and bool(progress.lines or progress.resumed or watch.interrupted)
        if progress is not None and ran and not as_json:  # no empty table after an error
            progress.interrupted = progress.interrupted or watch.interrupted
            console = Console()
            console.print(progress.summary())
            for attention in progress.attention():  # a table a page: flat memory
                console.print(attention)
        if as_json and verdicts.exists():
            with verdicts.open() as lines:  # a line at a time: 10,000 devices' are MBs
                for line in lines:
                    record = json.loads(line)
                    print(json.dumps({k: record[k] for k in VERDICT_KEYS}))
        if exit_zero_on_fault and not watch.interrupted and only_faults(code, stops, verdicts):
            code = 0
    if watch.interrupted:  # pytest says 2, which the contract keeps for usage errors
        stderr.print(interrupted_note(ctx, db), highlight=False, markup=False, soft_wrap=True)
        code = EXIT_INTERRUPTED
    raise typer.Exit(code)


def _nothing_to_do(db: str, bench: str, batch_name: str, stderr: Console) -> None:
    """Exit 0 saying so when a finished campaign on this bench triaged this batch (its
    devices would all be triaged, and counted, again); return otherwise."""
    from harness.results.store import ResultStore, ResultStoreError

    try:
        with ResultStore.open(db, create=False) as store:
            done = store.finished_campaign(bench, batch_name)
    except ResultStoreError:  # no store yet, or one the run itself will report on
        return
    if done is not None:
        stderr.print(done.nothing_to_do(), highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(0)


NORMAL_OUTCOMES = frozenset({"NO_FAULT_FOUND", "FAULT"})
"""The verdicts ``--exit-zero-on-fault`` counts as a campaign's normal end."""


def only_faults(code: int, stops: StopReasons, verdicts: Path) -> bool:
    """Whether a run that exited 1 did so only because devices were found FAULT: it ran to
    its end (no exit, collection or hook error) and every device it triaged is FAULT or NO
    FAULT FOUND."""
    if code != 1 or stops.messages() or stops.hook_failures or not verdicts.exists():
        return False
    with verdicts.open() as lines:  # a line at a time, as --json reads them
        kinds = {json.loads(line)["verdict"] for line in lines if line.strip()}
    return bool(kinds) and kinds <= NORMAL_OUTCOMES


def _check_population_options(ctx: typer.Context, session: BenchSession, batch: Path | None,
                              slots: bool) -> None:
    """``--devices`` and ``--seed`` size a generated population, which only an all-emulated
    bench without ``--batch`` or ``--slots`` triages: anywhere else they are an error, not
    silently ignored."""
    given = [f"--{name}" for name in ("devices", "seed") if _given(ctx, name)]
    if not given:
        return
    if batch is not None:
        why = "--batch names the devices"
    elif slots:
        why = "--slots triages the devices in the bench's slots"
    elif not session.private:
        why = (f"bench {session.source} has real instruments: its devices are the ones "
               "placed in its slots (give --batch FILE or --slots)")
    else:
        return
    usage_error(f"{' and '.join(given)} {'are' if len(given) > 1 else 'is'} for a generated "
                f"population (an all-emulated bench without --batch or --slots); {why}")


def _given(ctx: typer.Context, name: str) -> bool:
    """Whether option ``name`` was given on the command line (not its default)."""
    source = ctx.get_parameter_source(name)
    return source is not None and source.name not in ("DEFAULT", "DEFAULT_MAP")


def _say_why_it_stopped(stops: StopReasons, code: int) -> None:
    """In progress mode, why the campaign stopped early, on stderr: an error line for the
    bench unavailable, a collection or internal error; the plain reason for an operator's
    abort (the summary follows)."""
    for reason in stops.messages():
        if stops.exit_reason == reason and code not in (EXIT_UNAVAILABLE, EXIT_USAGE):
            sys.stderr.write(f"{reason}\n")
        else:
            error_line(reason)


def _hub_return_args(send: bool, connection: str | None, return_type: str | None,
                     workers: int) -> list[str]:
    """The pytest options of ``--send-hub-returns`` and its companions, or exit 2 with one
    line when they do not fit together."""
    if not send:
        if connection is not None or return_type is not None:
            usage_error("--hub-connection and --hub-return-type go with --send-hub-returns")
        return []
    if workers > 1:
        usage_error("--send-hub-returns sends through one bench's DCC: run it without --workers")
    args = ["--mb-send-hub-returns"]
    if connection is not None:
        if connection.lower() not in ("cradle", "esme", "hot-shoe"):
            usage_error(f"--hub-connection {connection!r}: expected cradle, esme or hot-shoe")
        args += ["--mb-hub-connection", connection.lower()]
    if return_type is not None:
        if return_type.lower() not in ("prior to installation", "post installation"):
            usage_error(f"--hub-return-type {return_type!r}: expected 'prior to installation' "
                        "or 'post installation'")
        args += ["--mb-hub-return-type", return_type.lower()]
    return args


def _check_access(session: BenchSession, role: str | None, operator: str | None) -> str:
    """Who acts in which role, granted by which site (the run header), or exit 2 with one
    line when the role is unknown or more than the site grants."""
    from harness.errors import AccessDeniedError
    from harness.triage.gate import Gate

    try:
        gate = Gate.open(session.config, role=role, operator=operator, audit=None)
    except (MeterbenchError, AccessDeniedError) as exc:
        usage_error(str(exc))
    return gate.describe()


class InterruptWatch:
    """pytest plugin: notes a Ctrl-C, SIGTERM or SIGHUP (not a ``pytest.exit``)."""

    def __init__(self) -> None:
        self.interrupted = False

    def pytest_keyboard_interrupt(self, excinfo: object) -> None:
        """The run was stopped by a signal (not by pytest's own stop after collection
        errors, which it raises as a KeyboardInterrupt too)."""
        import pytest

        value = getattr(excinfo, "value", None)
        if isinstance(value, KeyboardInterrupt) and not isinstance(value,
                                                                   pytest.Session.Interrupted):
            self.interrupted = True


def interrupted_note(ctx: typer.Context, db: str | None) -> str:
    """What an interrupted campaign tells the operator: it stopped, and how to resume it."""
    command = resume_command(ctx)
    if db is None:
        return ("campaign interrupted: the bench was left safe; nothing was stored (no --db), "
                f"so run it again to triage every device: {command}")
    return ("campaign interrupted: the bench was left safe; the device on the bench was "
            f"recorded as INTERRUPTED and is triaged again on resume. Resume with: {command}")


def resume_command(ctx: typer.Context) -> str:
    """The command line that runs this campaign again (with ``--db``: resumes it)."""
    parts = ["meterbench", ctx.info_name or "triage"]
    for param in ctx.command.params:
        value = ctx.params.get(param.name or "")
        if param.param_type_name != "option" or value is None or value == param.default:
            continue
        flag = max(param.opts, key=len)
        if getattr(param, "is_flag", False):
            parts += [flag] if value else list(param.secondary_opts[:1])
        elif param.multiple:
            for item in value:
                parts += [flag, str(item)]
        elif param.name in ("db", "audit_db"):  # a password never goes back on the screen
            parts += [flag, hide_password(str(value))]
        else:
            parts += [flag, str(value)]
    if ctx.args:
        parts += ["--", *ctx.args]
    return shlex.join(parts)


def _generated_batch(session: BenchSession, work: Path, size: int, seed: int,
                     starting: CampaignStart) -> tuple[Path, list[str]] | None:
    """On an all-emulated bench, the generated population to triage and its device keys;
    None on real hardware (whose devices are the ones in its slots)."""
    if not session.private:
        return None
    path = work / f"generated-seed{seed}-{size}.csv"  # same name on a re-run: --db resumes it
    from harness.emulator.world.population import PopulationSpec, generate

    rows = generate(PopulationSpec(size, seed=seed))
    try:
        write_csv(rows, path)
    except OSError as exc:
        usage_error(f"--out {work}: cannot write the generated batch: {exc.strerror or exc}")
    starting.notes.append(f"generated a returned-device population of {size} (seed {seed}): "
                          f"{path.name}")
    return path, [f"item{row.item}" for row in rows]


# -- bad input: found before the campaign starts, reported in one line ----------------------


def _check_inputs(benches: list[Path], batch: Path | None, time_scale: float | None,
                  db: str | None, out: Path | None, conformance: Path | None,
                  catalogue: Path | None = None) -> tuple[BenchSession, list[str]]:
    """Every input that can be checked before the campaign starts, checked without writing
    anything (a refused run leaves the results store and --out as they were); returns the
    first bench and the batch's device keys (none without --batch), read once here for what
    follows."""
    sessions = []
    candidates: list[Path | None] = [*benches] or [None]  # None: the default bench
    for path in candidates:
        try:
            sessions.append(BenchSession.from_file(path))
        except MeterbenchError as exc:
            usage_error(f"--bench: {exc}")
    if time_scale is not None:
        try:
            sessions[0].fast(time_scale)
        except MeterbenchError as exc:
            usage_error(f"--time-scale {time_scale:g}: {exc}")
    for session in sessions:  # secrets, slots, profiles, addresses: all before the first device
        try:
            check_before_campaign(session)
        except MeterbenchError as exc:
            usage_error(f"--bench: {exc}")
    models = load_catalogue()
    if catalogue is not None:
        try:
            models = models.merged(load_catalogue(catalogue))
        except MeterbenchError as exc:
            usage_error(f"--manifest: {exc}")
    keys: list[str] = []
    if batch is not None:
        try:
            keys = [f"item{row.item}" for row in read_csv(batch, models=models)]
        except OSError as exc:
            usage_error(f"--batch {batch}: cannot read the batch manifest: "
                        f"{exc.strerror or exc}")
        except MeterbenchError as exc:
            usage_error(f"--batch: {exc}")
    if db is not None:
        try:
            check_db_url(db)
        except MeterbenchError as exc:
            usage_error(f"--db: {exc}")
    if out is not None and out.exists() and not out.is_dir():
        usage_error(f"--out {out}: not a folder")
    if conformance is not None:
        if conformance.is_dir():
            usage_error(f"--conformance {conformance}: is a folder (give a file name)")
        if not conformance.parent.is_dir():
            usage_error(f"--conformance {conformance}: no folder {conformance.parent}")
        try:  # written when the campaign ends: find out now that it cannot be
            with tempfile.TemporaryFile(dir=conformance.parent):
                pass
        except OSError as exc:
            usage_error(f"--conformance {conformance}: cannot write in {conformance.parent}: "
                        f"{exc.strerror or exc}")
    return sessions[0], keys


def _make_out(out: Path) -> None:
    """Create --out (and its parents: it is an output folder) and make sure it is writable."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as exc:
        usage_error(f"--out {out}: cannot write there: {exc.strerror or exc}")
