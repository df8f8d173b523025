"""``meterbench bench check``: open every instrument of a bench file and say what answered."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from harness.bench import safety
from harness.bench.check import check_bench
from harness.bench.session import BenchSession
from harness.cli.consoles import out
from harness.cli.errors import EXIT_FAILED, fail
from harness.errors import MeterbenchError

bench_app = typer.Typer(no_args_is_help=True, help="Bench files and instruments.")


@bench_app.command("check")
def bench_check(bench: Annotated[Path, typer.Argument(help="Bench file.")]) -> None:
    """Open every instrument of a bench and report its identity or its error."""
    safety.terminate_as_interrupt()
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
