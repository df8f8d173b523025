"""``meterbench report``: the triage report (RFI figures, charts, device pages) from the store.

``report --db URL --out DIR [--since YYYY-MM-DD] [--until YYYY-MM-DD] [--format html|csv|json]
[--by-return-date]`` (DESIGN.md, the command line): the RFI figures per generation and device
type. A report never creates a database: with none at ``--db`` it exits 2 with one line. The
lead wires it: ``app.command("report")(report_command)``.
"""

from __future__ import annotations

import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from harness.cli.errors import usage_error
from harness.results.report import verdict_counts, write_report
from harness.results.store import DEFAULT_DB_URL, DeviceRow, ResultStore, ResultStoreError

EXIT_USAGE = 2


class EmulatedChoice(StrEnum):
    """Which results of emulated benches a report counts (they are no lab's returns)."""

    auto = "auto"  # left out when the period has a lab's results; else shown, marked emulated
    include = "include"
    exclude = "exclude"
    only = "only"


def pick_rows(store: ResultStore, choice: EmulatedChoice, **period: Any
              ) -> tuple[list[DeviceRow], int]:
    """The rows the report counts under ``choice`` (light summaries: the report reads each
    in full as it writes its page), and how many emulated ones it left out."""
    if choice is EmulatedChoice.include:
        return store.results(light=True, **period), 0
    if choice is EmulatedChoice.only:
        return store.results(emulated=True, light=True, **period), 0
    lab = store.results(emulated=False, light=True, **period)
    if choice is EmulatedChoice.auto and not lab:  # a CI or demo store: all emulated
        return store.results(light=True, **period), 0
    left_out = len(store.results(emulated=True, light=True, **period))
    return lab, left_out


class ReportFormat(StrEnum):
    """What the report writes: HTML (with CSV beside it), just CSV, or just JSON."""

    html = "html"
    csv = "csv"
    json = "json"


def _day(value: str | None, option: str) -> datetime.date | None:
    if value is None:
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        usage_error(f"{option} {value!r} is not a date (YYYY-MM-DD)")


def report_command(
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory to write the report into.")],
    db: Annotated[str, typer.Option(
        "--db", help="Results database URL (e.g. sqlite:///meterbench.db) or a SQLite path.")]
    = DEFAULT_DB_URL,
    since: Annotated[str | None, typer.Option(
        "--since", help="First day of the period (YYYY-MM-DD, UTC, inclusive).")] = None,
    until: Annotated[str | None, typer.Option(
        "--until", help="Last day of the period (YYYY-MM-DD, UTC, inclusive).")] = None,
    fmt: Annotated[ReportFormat, typer.Option(
        "--format", help="html (with CSV), csv or json.")] = ReportFormat.html,
    by_return_date: Annotated[bool, typer.Option(
        "--by-return-date", help="The period is of the devices' return dates (from the "
                                 "returns manifest), not of triage dates.")] = False,
    emulated: Annotated[EmulatedChoice, typer.Option(
        "--emulated", help="Results of emulated benches: auto (left out when the period has "
                           "a lab's results, else shown and marked emulated), include, "
                           "exclude or only.")] = EmulatedChoice.auto,
) -> None:
    """Write the triage report for a period: RFI figures, charts, per-device pages, CSV."""
    first, last = _day(since, "--since"), _day(until, "--until")
    if out.exists() and not out.is_dir():
        usage_error(f"--out {out}: not a folder")
    if first and last and first > last:
        usage_error(f"--since {first} is after --until {last}")
    try:
        with ResultStore.open(db, create=False) as store:
            rows, left_out = pick_rows(store, emulated, since=first, until=last,
                                       by_return_date=by_return_date)
            campaigns = store.campaigns({r.campaign_id for r in rows})
            source = store.shown_url
            written = write_report(rows, out, fmt=fmt.value, since=first, until=last,
                                   source=source, by_return_date=by_return_date,
                                   campaigns=campaigns,
                                   full=lambda rs: store.full_results([r.id for r in rs]))
    except ResultStoreError as exc:
        usage_error(f"--db: {exc}")
    except OSError as exc:
        where = f" {exc.filename}" if exc.filename and str(exc.filename) != str(out) else ""
        usage_error(f"--out {out}: cannot write the report{where}: {exc.strerror or exc}")
    counts = verdict_counts(rows)
    summary = ", ".join(f"{counts[v]} {v}" for v in ("NO_FAULT_FOUND", "FAULT", "INCONCLUSIVE"))
    main = next((p for p in written if p.name in ("index.html", "results.json")), written[0])
    kinds = {r.emulated for r in rows}
    marked = " emulated" if kinds == {True} else ""
    some = f"; {sum(r.emulated for r in rows)} emulated" if kinds == {True, False} else ""
    typer.echo(f"{len(rows)}{marked} device(s) ({summary}{some}): report written to {main}")
    if left_out:
        typer.echo(f"{left_out} result(s) of emulated benches left out of this lab report "
                   "(--emulated include to count them)")
