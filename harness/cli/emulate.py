"""``meterbench emulate``: serve the emulated bench on loopback until interrupted."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from harness.bench import safety
from harness.bench.session import BenchSession
from harness.cli.consoles import err, out
from harness.cli.errors import EXIT_USAGE, fail
from harness.errors import BenchConfigError, MeterbenchError

BenchOpt = Annotated[
    Path | None,
    typer.Option("--bench", "-b", help="Bench file (default: the emulated bench)."),
]


def emulate_command(
    bench: BenchOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print endpoints as JSON.")] = False,
    power_on: Annotated[bool, typer.Option(
        "--power-on", help="Switch every slot's supply on, so the devices run.")] = False,
    log: Annotated[Path | None, typer.Option(
        "--log", help="Append every command the emulated supplies and relays receive to "
                      "FILE (time, instrument, channel, command), for tests.")] = None,
) -> None:
    """Serve the emulated bench on loopback until interrupted."""
    safety.terminate_as_interrupt()
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
