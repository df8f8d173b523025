"""``meterbench bench check``: open every instrument of a bench file and say what answered,
and everything else a campaign will need from it (secrets, slots, profiles, addresses)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from harness.bench import safety
from harness.bench.check import check_bench
from harness.bench.preflight import preflight
from harness.bench.session import BenchSession
from harness.cli.consoles import out
from harness.cli.errors import EXIT_FAILED, EXIT_USAGE, error_line, fail, usage_error
from harness.errors import MeterbenchError

bench_app = typer.Typer(no_args_is_help=True, help="Bench files and instruments.")


@bench_app.command("check")
def bench_check(
    bench: Annotated[Path | None, typer.Argument(
        help="Bench file (or give it with --bench).", show_default=False)] = None,
    bench_option: Annotated[Path | None, typer.Option(
        "--bench", "-b", help="Bench file, as every other command takes it.",
        show_default=False)] = None,
) -> None:
    """Open every instrument of a bench and report its identity or its error; then every
    other thing a campaign needs from the bench file (secrets, slots, profiles, addresses)."""
    if bench is not None and bench_option is not None and bench != bench_option:
        usage_error(f"two bench files: {bench} and --bench {bench_option} (give one)")
    path = bench_option or bench
    if path is None:
        usage_error("give the bench file: meterbench bench check --bench FILE")
    safety.terminate_as_interrupt()
    try:
        session = BenchSession.from_file(path)
        problems = preflight(session)
        bad_addresses = {p.key_path for p in problems}
        try:
            results = check_bench(session, skip={
                name for name in session.config.instruments
                if f"instruments.{name}.address" in bad_addresses})
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
    for problem in problems:  # what the bench file lacks: a campaign would refuse it
        error_line(str(problem))
    if problems:
        raise typer.Exit(EXIT_USAGE)
    if not all(r.ok for r in results):
        raise typer.Exit(EXIT_FAILED)
