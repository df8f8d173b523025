"""The facility at a glance, read from the results store: each campaign's devices done,
claimed and waiting, each bench's holder and current device, and the rate per bench.

Read-only (a database without the facility tables, older or SQLite-only, is shown with what
it has); ``meterbench status`` renders it as tables or JSON.
"""

from __future__ import annotations

import datetime
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import func, inspect, select

from harness.results.bench_owner import bench_holder_table, bench_key, held_benches
from harness.results.facility import CLAIMED, DONE, WAITING, claim_table, db_now
from harness.results.store import (
    INTERRUPTED,
    ResultStore,
    campaign_table,
    device_result_table,
    parse_utc,
    utc_text,
)
from harness.triage.audit_db import ReadTx


@dataclass(frozen=True)
class CampaignStatus:
    """One campaign's progress (``claimed``/``waiting`` None: not a facility campaign)."""

    id: int
    name: str | None
    batch: str
    started: str
    finished: str | None
    done: int
    claimed: int | None
    waiting: int | None
    interrupted: int
    lost_leases: int


@dataclass(frozen=True)
class BenchStatus:
    """One bench: who holds it now (None: free), its current device, its recent rate."""

    bench: str
    holder: str | None
    campaign_id: int | None
    device: str | None
    devices_in_window: int
    per_minute: float | None


@dataclass(frozen=True)
class FacilityStatus:
    """Everything ``meterbench status`` shows."""

    campaigns: list[CampaignStatus]
    benches: list[BenchStatus]
    window_min: float

    def as_dict(self) -> dict[str, Any]:
        """Plain data, for ``--json``."""
        return {"window_min": self.window_min,
                "campaigns": [asdict(c) for c in self.campaigns],
                "benches": [asdict(b) for b in self.benches]}


def facility_status(store: ResultStore, *, limit: int = 20,
                    window_min: float = 60.0) -> FacilityStatus:
    """The ``limit`` latest campaigns and every bench seen (a holder row, or a result in the
    last ``window_min`` minutes), with devices per minute over that window."""
    c, d = campaign_table, device_result_table
    with ReadTx(store._engine) as conn:
        tables = set(inspect(conn).get_table_names())
        named = "name" in {col["name"] for col in inspect(conn).get_columns("campaign")}
        cols = [c.c.id, c.c.batch_name, c.c.started, c.c.finished] + ([c.c.name] if named
                                                                      else [])
        rows = conn.execute(select(*cols).order_by(c.c.id.desc()).limit(limit)).all()
        ids = [r.id for r in rows]
        results: dict[tuple[int, bool], int] = {}
        for cid, verdict, n in conn.execute(
                select(d.c.campaign_id, d.c.verdict, func.count())
                .where(d.c.campaign_id.in_(ids)).group_by(d.c.campaign_id, d.c.verdict)):
            which = (cid, verdict == INTERRUPTED)
            results[which] = results.get(which, 0) + int(n)
        claims: dict[int, dict[str, int]] = {}
        lost: dict[int, int] = {}
        if "claim" in tables:
            t = claim_table
            for cid, state, n in conn.execute(
                    select(t.c.campaign_id, t.c.state, func.count())
                    .where(t.c.campaign_id.in_(ids)).group_by(t.c.campaign_id, t.c.state)):
                claims.setdefault(cid, {})[state] = int(n)
            for cid, text in conn.execute(select(t.c.campaign_id, t.c.lost).where(
                    t.c.campaign_id.in_(ids), t.c.lost.is_not(None))):
                lost[cid] = lost.get(cid, 0) + text.count('"retaken_at"')
        campaigns = [CampaignStatus(
            id=r.id, name=getattr(r, "name", None), batch=r.batch_name, started=r.started,
            finished=r.finished,
            done=claims[r.id].get(DONE, 0) if r.id in claims else results.get((r.id, False), 0),
            claimed=claims[r.id].get(CLAIMED, 0) if r.id in claims else None,
            waiting=claims[r.id].get(WAITING, 0) if r.id in claims else None,
            interrupted=results.get((r.id, True), 0), lost_leases=lost.get(r.id, 0))
            for r in rows]
        now = datetime.datetime.fromtimestamp(db_now(conn), datetime.UTC)
        since = utc_text(now - datetime.timedelta(minutes=window_min))
        rates: dict[str, tuple[int, str, str]] = {}
        for bench, n, first, last in conn.execute(
                select(d.c.bench, func.count(), func.min(d.c.started), func.max(d.c.finished))
                .where(d.c.finished >= since, d.c.verdict != INTERRUPTED).group_by(d.c.bench)):
            rates[bench] = (int(n), first, last)
        holders: dict[str, Any] = {}
        held: set[int] | None = None
        if "bench_holder" in tables:
            holders = {h.bench: h for h in conn.execute(select(bench_holder_table))}
            if conn.dialect.name == "postgresql":
                held = held_benches(conn)
    benches = []
    for name in sorted(set(holders) | set(rates)):
        h = holders.get(name)
        live = h is not None and (held is None or bench_key(name) in held)
        n, first, last = rates.get(name, (0, None, None))
        span = ((parse_utc(last) - parse_utc(first)).total_seconds() / 60 if n and first
                and last else 0.0)
        benches.append(BenchStatus(
            bench=name, holder=f"{h.host} pid {h.pid}" if live and h is not None else None,
            campaign_id=h.campaign_id if live and h is not None else None,
            device=h.device if live and h is not None else None, devices_in_window=n,
            per_minute=round(n / span, 2) if span > 0 else None))
    return FacilityStatus(campaigns, benches, window_min)


@dataclass(frozen=True)
class LiveBench:
    """A bench some host holds now, as its holder last wrote it (times: the database's clock,
    seconds since the epoch); ``done``/``total``: its campaign's progress (``total`` 0 where
    the campaign has no shared queue)."""

    bench: str
    host: str
    pid: int
    since: float
    heartbeat: float
    campaign_id: int | None
    device: str | None
    stage: str | None
    amps: float | None
    device_since: float | None
    done: int
    total: int


@dataclass(frozen=True)
class LiveBenches:
    """Every bench held now in the facility, and the database's clock when read."""

    benches: list[LiveBench]
    db_now: float


def live_benches(store: ResultStore) -> LiveBenches:
    """The benches held now through the store (PostgreSQL: a live holder keeps its advisory
    lock), with their device, stage and current draw; none on a store that cannot hold
    benches across hosts (SQLite) or that predates them."""
    with ReadTx(store._engine) as conn:
        if conn.dialect.name != "postgresql":
            return LiveBenches([], db_now(conn))
        tables = set(inspect(conn).get_table_names())
        now = db_now(conn)
        if "bench_holder" not in tables:
            return LiveBenches([], now)
        held = held_benches(conn)
        rows = [h for h in conn.execute(select(bench_holder_table)
                                        .order_by(bench_holder_table.c.bench))
                if bench_key(h.bench) in held]
        progress = _progress(conn, {h.campaign_id for h in rows if h.campaign_id is not None},
                             "claim" in tables)
    return LiveBenches([LiveBench(
        bench=h.bench, host=h.host, pid=h.pid, since=h.since, heartbeat=h.heartbeat,
        campaign_id=h.campaign_id, device=h.device, stage=getattr(h, "stage", None),
        amps=getattr(h, "amps", None), device_since=getattr(h, "device_since", None),
        done=progress.get(h.campaign_id, (0, 0))[0] if h.campaign_id is not None else 0,
        total=progress.get(h.campaign_id, (0, 0))[1] if h.campaign_id is not None else 0)
        for h in rows], now)


def _progress(conn: Any, ids: set[int], claims: bool) -> dict[int, tuple[int, int]]:
    """Devices done and in all per campaign: from its shared queue where it has one, else
    its results so far (0 in all: not known)."""
    out: dict[int, tuple[int, int]] = {}
    if not ids:
        return out
    if claims:
        t = claim_table
        for cid, state, n in conn.execute(select(t.c.campaign_id, t.c.state, func.count())
                                          .where(t.c.campaign_id.in_(ids))
                                          .group_by(t.c.campaign_id, t.c.state)):
            done, total = out.get(cid, (0, 0))
            out[cid] = (done + (int(n) if state == DONE else 0), total + int(n))
    d = device_result_table
    for cid, n in conn.execute(select(d.c.campaign_id, func.count())
                               .where(d.c.campaign_id.in_(ids - set(out)),
                                      d.c.verdict != INTERRUPTED)
                               .group_by(d.c.campaign_id)):
        out[cid] = (int(n), 0)
    return out
