"""The ``meterbench`` command (contract in DESIGN.md): emulate, bench check, triage, ...

Exit status: 0 success; 1 a device or check failed; 2 usage or bench-file error (one clear
message, no traceback); 3 bench unavailable (locked, instrument not answering); 130
interrupted (Ctrl-C, SIGTERM or SIGHUP: the bench was put in its safe state first; an
interrupted ``triage`` campaign prints the command that resumes it).  Bad input
of any kind is one ``error:`` line on stderr (``harness.cli.errors``).
"""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from harness.bench import safety
from harness.bench.check import check_bench
from harness.bench.session import BenchSession
from harness.cli.audit import audit_app
from harness.cli.batch import batch_app
from harness.cli.errors import (
    EXIT_FAILED,
    EXIT_UNAVAILABLE,
    EXIT_USAGE,
    OneLineErrors,
    fail,
    usage_error,
)
from harness.cli.optical import optical_app
from harness.cli.qa import qa_command
from harness.cli.report import report_command
from harness.cli.spec import spec_command
from harness.cli.triage import triage_command
from harness.errors import BenchConfigError, MeterbenchError
from harness.protocols.installcode import InstallCode

app = typer.Typer(cls=OneLineErrors, no_args_is_help=True, add_completion=False,
                  help="meterbench: triage of GB smart metering devices on a test bench.")
bench_app = typer.Typer(no_args_is_help=True, help="Bench files and instruments.")
app.add_typer(bench_app, name="bench")
app.add_typer(optical_app, name="optical")
app.add_typer(batch_app, name="batch")
app.add_typer(audit_app, name="audit")
app.command("spec")(spec_command)
app.command("report")(report_command)
app.command("qa", context_settings={"allow_extra_args": True,
                                    "ignore_unknown_options": True})(qa_command)
app.command("triage", context_settings={"allow_extra_args": True,
                                        "ignore_unknown_options": True})(triage_command)



def out() -> Console:
    """Standard output console (made per call so COLUMNS and redirection are honoured)."""
    return Console()


def err() -> Console:
    """Standard error console."""
    return Console(stderr=True)


BenchOpt = Annotated[
    Path | None,
    typer.Option("--bench", "-b", help="Bench file (default: the emulated bench)."),
]

EXIT_INTERRUPTED = safety.EXIT_INTERRUPTED  # 130: 128 + SIGINT, as shells report a Ctrl-C

__all__ = ["EXIT_FAILED", "EXIT_INTERRUPTED", "EXIT_UNAVAILABLE", "EXIT_USAGE", "app", "fail",
           "main"]


def terminate_as_interrupt() -> None:
    """Treat SIGTERM and SIGHUP like Ctrl-C so the same clean-up (safe state) runs for all."""
    safety.terminate_as_interrupt()


@app.command()
def emulate(
    bench: BenchOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print endpoints as JSON.")] = False,
    power_on: Annotated[bool, typer.Option(
        "--power-on", help="Switch every slot's supply on, so the devices run.")] = False,
    log: Annotated[Path | None, typer.Option(
        "--log", help="Append every command the emulated supplies and relays receive to "
                      "FILE (time, instrument, channel, command), for tests.")] = None,
) -> None:
    """Serve the emulated bench on loopback until interrupted."""
    terminate_as_interrupt()
    if log is not None:
        try:
            log.open("a").close()
        except OSError as exc:
            err().print(f"[bold red]error:[/] --log {log}: cannot write: {exc.strerror}",
                        highlight=False, soft_wrap=True)
            raise typer.Exit(EXIT_USAGE) from None
    try:
        session = BenchSession.from_file(bench)
        emulator = session.start_emulator(command_log=log)
    except MeterbenchError as exc:
        fail(exc)
    if emulator is None:
        fail(BenchConfigError("no instrument of this bench is emulated", file=session.source))
    try:
        if power_on:
            emulator.power_slots()
        described = emulator.describe()
        if as_json:
            print(json.dumps(described), flush=True)
        else:
            table = Table(title=f"emulated bench {described['bench']!r} (Ctrl-C to stop)")
            for col in ("instrument", "kind", "backend", "address"):
                table.add_column(col)
            for name, inst in described["instruments"].items():
                table.add_row(name, inst["kind"], inst["backend"], inst["address"])
            out().print(table)
            for slot, dev in described["devices"].items():
                out().print(f"slot {slot}: {dev['device_type']} on {dev['instruments']}")
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        session.close()


@bench_app.command("check")
def bench_check(bench: Annotated[Path, typer.Argument(help="Bench file.")]) -> None:
    """Open every instrument of a bench and report its identity or its error."""
    terminate_as_interrupt()
    try:
        session = BenchSession.from_file(bench)
        try:
            results = check_bench(session)
        finally:
            session.close()
    except MeterbenchError as exc:
        fail(exc)
    table = Table(title=f"bench {session.config.bench.name}")
    for col in ("instrument", "kind", "backend", "address", "result"):
        table.add_column(col, overflow="fold")
    for r in results:
        result = f"[green]{r.identity}[/]" if r.ok else f"[red]{r.error}[/]"
        table.add_row(r.name, r.kind, r.backend, r.address, result)
    out().print(table)
    if not all(r.ok for r in results):
        raise typer.Exit(EXIT_FAILED)


@app.command()
def installcode(
    code: Annotated[str, typer.Argument(help="Install code, hex; spaces, dashes allowed.")],
    reveal: Annotated[bool, typer.Option(
        "--reveal", help="Also print the derived link key (a secret).")] = False,
    has_crc: Annotated[bool | None, typer.Option(
        "--crc/--no-crc", help="Whether CODE ends with its CRC (needed for 8 bytes).")] = None,
) -> None:
    """Validate a ZigBee install code: its length and CRC-16/X-25; optionally its link key."""
    try:
        parsed = InstallCode.parse(code, has_crc=has_crc)
    except MeterbenchError as exc:
        usage_error(f"CODE: {exc}")
    crc_bytes = parsed.crc.to_bytes(2, "little").hex(" ").upper()
    print(f"valid {len(parsed)}-byte install code; CRC-16/X-25 0x{parsed.crc:04X} "
          f"(stored {crc_bytes})")
    if reveal:
        print(f"link key {parsed.link_key().hex()}")


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        err().print("interrupted")
        sys.exit(EXIT_INTERRUPTED)
