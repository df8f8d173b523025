"""``meterbench status --db URL``: the facility at a glance, from the results store.

Campaigns with their devices done / claimed / waiting (claimed and waiting for facility
campaigns, which have a shared queue), each bench's holder and current device, and the rate
per bench over a recent window; ``--json`` prints the same as one JSON object.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from harness.cli.errors import usage_error
from harness.results.store import DEFAULT_DB_URL, ResultStore, ResultStoreError


def status_command(
    db: Annotated[str, typer.Option(
        "--db", help="Results store URL (postgres://... for a facility).")] = DEFAULT_DB_URL,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object instead of tables.")
                       ] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000,
                                       help="How many of the latest campaigns.")] = 20,
    window: Annotated[float, typer.Option(
        "--window", min=1.0, max=100_000.0,
        help="Minutes over which each bench's rate is measured.")] = 60.0,
) -> None:
    """Show campaigns (devices done, claimed, waiting), benches (holder, device) and rates."""
    from harness.results.facility_status import facility_status

    try:
        with ResultStore.open(db, create=False) as store:
            status = facility_status(store, limit=limit, window_min=window)
    except ResultStoreError as exc:
        usage_error(f"--db: {exc}")
    except SQLAlchemyError as exc:  # the server went away mid-read, say
        reason = getattr(exc, "orig", None) or exc
        usage_error(f"--db: cannot read the facility's status: {' '.join(str(reason).split())}")
    if as_json:
        typer.echo(json.dumps(status.as_dict(), indent=2))
        return
    console = Console()
    campaigns = Table(title="Campaigns")
    for name in ("id", "name", "batch", "done", "claimed", "waiting", "interrupted",
                 "lost", "finished"):
        campaigns.add_column(name, overflow="fold", justify="left" if name in (
            "name", "batch", "finished") else "right")
    for c in status.campaigns:
        campaigns.add_row(str(c.id), c.name or "-", c.batch or "(slots)", str(c.done),
                          "-" if c.claimed is None else str(c.claimed),
                          "-" if c.waiting is None else str(c.waiting), str(c.interrupted),
                          str(c.lost_leases),
                          c.finished[:16].replace("T", " ") if c.finished else "-")
    console.print(campaigns)
    benches = Table(title=f"Benches (rate over the last {status.window_min:g} min)")
    for name in ("bench", "holder", "campaign", "device", "devices", "per min"):
        benches.add_column(name, justify="right" if name in ("devices", "per min") else "left")
    for b in status.benches:
        benches.add_row(b.bench, b.holder or "free", "-" if b.campaign_id is None
                        else str(b.campaign_id), b.device or "-", str(b.devices_in_window),
                        "-" if b.per_minute is None else f"{b.per_minute:.2f}")
    console.print(benches)
