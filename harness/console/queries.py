"""The console's reads of the results store and the audit log, a page at a time.

A campaign of ten thousand devices is never loaded whole: its verdict counts are one
``GROUP BY``, its RFI figures read seven narrow columns, and its device list is one page of
narrow rows (no transcript, no evidence).  A device page reads that one device in full, through
the store's own row builder, so it shows exactly what the HTML report shows.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Index, func, or_, select

from harness.results.rfi import NOT_A_VERDICT, RfiFigures, rfi_figures
from harness.results.store import (
    EMULATED,
    CampaignRow,
    DeviceRow,
    MeasurementRow,
    ResultStore,
    _device_row,
    campaign_table,
    device_result_table,
    measurement_table,
    parse_utc,
)
from harness.triage.audit_db import EngineHolder, ReadTx, entries_table

PAGE_SIZE = 50
"""Rows per page of every list."""

LIST_COLUMNS = ("id", "campaign_id", "item_key", "device_id", "label_id", "device_type", "model",
                "verdict", "category", "why", "duration_s", "finished", "bench")
"""What a device list shows: small columns only (never the transcript or the evidence)."""


@dataclass(frozen=True)
class Page:
    """One page of a list: its rows, its number (from 1), and how many rows in all."""

    rows: list[Any]
    number: int
    total: int
    size: int = PAGE_SIZE

    @property
    def pages(self) -> int:
        """How many pages the list has (at least one)."""
        return max(1, -(-self.total // self.size))


@dataclass(frozen=True)
class DeviceLine:
    """A device as a list shows it."""

    id: int
    campaign_id: int
    item_key: str
    device_id: str | None
    label_id: str | None
    device_type: str
    model: str | None
    verdict: str
    category: str | None
    why: str
    duration_s: float
    finished: str
    bench: str


@dataclass(frozen=True)
class _RfiRow:
    """The columns the RFI figures read (``harness.results.rfi.ResultLike``)."""

    device_type: str
    verdict: str
    category: str | None
    reset: bool
    device_id: str | None
    label_id: str | None
    generation: str | None


_d = device_result_table.c
CONSOLE_INDEX = Index("device_result_by_campaign", _d.campaign_id, _d.verdict, _d.bench_kind,
                      _d.device_type, _d.category, _d.reset, _d.generation)
"""What the console's campaign pages read (verdict counts, a page of ids, whether emulated,
the columns of the RFI figures) without touching the rows themselves, whose transcripts make
each one kilobytes long."""

_rfi_cache: dict[tuple[str, int], tuple[tuple[int, int], RfiFigures]] = {}
_rfi_lock = threading.Lock()


def ensure_index(store: ResultStore) -> None:
    """Add :data:`CONSOLE_INDEX` to the store where it is missing (a write open has added
    the later columns it names)."""
    if store._missing:
        return
    with store._engine.begin() as conn:
        CONSOLE_INDEX.create(conn, checkfirst=True)


def page_number(text: str | None) -> int:
    """A ``page`` query parameter as a page number (bad or missing: the first page)."""
    try:
        return max(1, int(text or 1))
    except ValueError:
        return 1


def _lines(conn: Any, query: Any) -> list[DeviceLine]:
    return [DeviceLine(**{k: getattr(r, k) for k in LIST_COLUMNS}) for r in conn.execute(query)]


def _emulated(store: ResultStore, conn: Any, campaign_id: int) -> bool | None:
    """What a campaign's results say of their bench (as ``ResultStore.campaigns``), from two
    lookups that stop at the first row rather than a scan of every result."""
    if "bench_kind" in store._missing:
        return None
    d = device_result_table
    mine = d.c.campaign_id == campaign_id
    if conn.execute(select(d.c.id).where(mine, d.c.bench_kind == EMULATED).limit(1)).first():
        return True
    if conn.execute(select(d.c.id).where(mine, d.c.bench_kind.is_not(None)).limit(1)).first():
        return False
    return None


def _campaign_rows(store: ResultStore, conn: Any, query: Any) -> list[CampaignRow]:
    return [CampaignRow(id=r.id, bench=r.bench, operator=r.operator, role=r.role,
                        batch_name=r.batch_name, started=parse_utc(r.started),
                        finished=parse_utc(r.finished) if r.finished else None,
                        emulated=_emulated(store, conn, r.id))
            for r in conn.execute(query).all()]


def campaigns_page(store: ResultStore, number: int) -> Page:
    """Campaigns, newest first, one page."""
    t = campaign_table
    with ReadTx(store._engine) as conn:
        total = int(conn.execute(select(func.count()).select_from(t)).scalar_one())
        rows = _campaign_rows(store, conn, select(t).order_by(t.c.id.desc()).limit(PAGE_SIZE)
                              .offset((number - 1) * PAGE_SIZE))
    return Page(rows, number, total)


def campaign(store: ResultStore, campaign_id: int) -> CampaignRow | None:
    """One campaign, or None."""
    t = campaign_table
    with ReadTx(store._engine) as conn:
        found = _campaign_rows(store, conn, select(t).where(t.c.id == campaign_id))
    return found[0] if found else None


@dataclass(frozen=True)
class InProgress:
    """A campaign not finished, wherever it runs (this host or another on the same store)."""

    campaign: CampaignRow
    devices: int
    last_result: str | None


def in_progress(store: ResultStore, limit: int = 20) -> list[InProgress]:
    """The unfinished campaigns of the store, newest first, with how many devices have a
    result and when the latest came: the benches of the whole facility where the store is
    shared (PostgreSQL), whoever started them."""
    t, d = campaign_table, device_result_table
    with ReadTx(store._engine) as conn:
        rows = _campaign_rows(store, conn, select(t).where(t.c.finished.is_(None))
                              .order_by(t.c.id.desc()).limit(limit))
        out = []
        for c in rows:
            n, last = conn.execute(select(func.count(), func.max(d.c.finished))
                                   .where(d.c.campaign_id == c.id)).one()
            out.append(InProgress(c, int(n), parse_utc(last).strftime("%Y-%m-%d %H:%M:%S")
                                  if last else None))
    return out


def verdict_counts(store: ResultStore, campaign_id: int) -> Counter[str]:
    """Devices per verdict in a campaign, counted by the database."""
    d = device_result_table
    with ReadTx(store._engine) as conn:
        return Counter({v: int(n) for v, n in conn.execute(
            select(d.c.verdict, func.count()).where(d.c.campaign_id == campaign_id)
            .group_by(d.c.verdict))})


def campaign_rfi(store: ResultStore, campaign_id: int) -> RfiFigures:
    """The campaign's RFI figures so far, by ``harness.results.rfi.rfi_figures`` itself.

    Where no device appears twice in the campaign (the usual case: a device is triaged once
    per campaign) every result counts, so the database groups them and each group is handed
    to ``rfi_figures`` as that many anonymous rows; otherwise the identities are read too and
    ``rfi_figures`` keeps each device's latest result.  Computed again only when the
    campaign's results change (a result added, or an interrupted one replaced)."""
    d = device_result_table
    mine = d.c.campaign_id == campaign_id
    with ReadTx(store._engine) as conn:
        seen = conn.execute(select(func.count(), func.max(d.c.id)).where(mine)).one()
    key, stamp = (store.shown_url, campaign_id), (int(seen[0]), int(seen[1] or 0))
    with _rfi_lock:
        cached = _rfi_cache.get(key)
    if cached is not None and cached[0] == stamp:  # no result added or replaced since
        return cached[1]
    figures = _campaign_rfi(store, campaign_id)
    with _rfi_lock:
        _rfi_cache[key] = (stamp, figures)
    return figures


def _campaign_rfi(store: ResultStore, campaign_id: int) -> RfiFigures:
    d = device_result_table
    mine = d.c.campaign_id == campaign_id
    gen = [d.c.generation] if "generation" not in store._missing else []
    kinds = [d.c.device_type, d.c.verdict, d.c.category, d.c.reset, *gen]
    ident = func.upper(func.coalesce(d.c.device_id, d.c.label_id))
    with ReadTx(store._engine) as conn:
        twice = conn.execute(select(ident).where(mine, ident.is_not(None),
                                                 d.c.verdict.not_in(NOT_A_VERDICT))
                             .group_by(ident).having(func.count() > 1).limit(1)).first()
        if twice is None:
            groups = conn.execute(select(*kinds, func.count()).where(mine)
                                  .group_by(*kinds)).all()
            return rfi_figures(_RfiRow(g[0], g[1], g[2], bool(g[3]), None, None,
                                       g[4] if gen else None)
                               for g in groups for _ in range(int(g[-1])))
        rows = conn.execute(select(*kinds, d.c.device_id, d.c.label_id).where(mine)
                            .order_by(d.c.finished, d.c.id)).all()
    return rfi_figures(_RfiRow(r[0], r[1], r[2], bool(r[3]), r[-2], r[-1],
                               r[4] if gen else None) for r in rows)


def devices_page(store: ResultStore, number: int, *, campaign_id: int | None = None,
                 verdict: str | None = None, search: str | None = None,
                 total: int | None = None) -> Page:
    """Device results, newest first, one page: of a campaign and/or a verdict, or matching
    ``search`` (item, device ID or label ID, case-insensitive; an all-digit search also
    finds an MPxN wherever the stored evidence names it)."""
    d = device_result_table
    where = []
    if campaign_id is not None:
        where.append(d.c.campaign_id == campaign_id)
    if verdict:
        where.append(d.c.verdict == verdict)
    if search:
        needle = f"%{search.strip().upper()}%"
        terms = [func.upper(d.c.item_key).like(needle), func.upper(d.c.device_id).like(needle),
                 func.upper(d.c.label_id).like(needle)]
        digits = search.strip()
        if digits.isdigit() and len(digits) >= 6:
            terms.append(d.c.evidence.like(f"%{digits}%"))
        where.append(or_(*terms))
    cols = [getattr(d.c, name) for name in LIST_COLUMNS]
    with ReadTx(store._engine) as conn:
        if total is None:  # the caller may know it (a campaign's verdict counts)
            total = int(conn.execute(select(func.count()).select_from(d).where(*where))
                        .scalar_one())
        # The page's ids first (from an index where one serves), then those rows only.
        ids = list(conn.execute(select(d.c.id).where(*where).order_by(d.c.id.desc())
                                .limit(PAGE_SIZE).offset((number - 1) * PAGE_SIZE)).scalars())
        rows = _lines(conn, select(*cols).where(d.c.id.in_(ids)).order_by(d.c.id.desc())) \
            if ids else []
    return Page(rows, number, total)


def device(store: ResultStore, result_id: int) -> DeviceRow | None:
    """One device result in full (measurements, current trace), as the report reads it."""
    d = device_result_table
    columns = [c for c in d.c if c.name not in store._missing]
    with ReadTx(store._engine) as conn:
        row = conn.execute(select(*columns).where(d.c.id == result_id)).first()
        if row is None:
            return None
        m = measurement_table
        measurements = [MeasurementRow(r.clause, r.name, r.value, r.numeric_value, r.unit, r.low,
                                       r.high, r.expected, bool(r.passed))
                        for r in conn.execute(select(m).where(m.c.device_result_id == result_id)
                                              .order_by(m.c.id))]
        traces = store._traces(conn, [row]) if store._has_traces else {}
    return _device_row(row, measurements, traces.get(row.id))


@dataclass(frozen=True)
class AuditLine:
    """An audit entry as the trail shows it."""

    seq: int
    at: str
    operator: str
    role: str
    bench: str
    device_id: str | None
    clause: str | None
    action: str
    outcome: str
    detail: dict[str, Any]


def audit_page(log: EngineHolder, number: int, *, operator: str | None = None) -> Page:
    """Audit entries, newest first, one page (of one operator's, if given); an empty page
    where the database holds no audit log."""
    a = entries_table
    where = [a.c.operator == operator] if operator else []
    with ReadTx(log._engine) as conn:
        if not conn.dialect.has_table(conn, a.name):
            return Page([], number, 0)
        total = int(conn.execute(select(func.count()).select_from(a).where(*where)).scalar_one())
        rows = [AuditLine(r.seq, parse_utc(r.at).strftime("%Y-%m-%d %H:%M:%S"), r.operator,
                          r.role, r.bench, r.device_id, r.clause, r.action, r.outcome,
                          json.loads(r.detail))
                for r in conn.execute(select(a).where(*where).order_by(a.c.seq.desc())
                                      .limit(PAGE_SIZE).offset((number - 1) * PAGE_SIZE))]
    return Page(rows, number, total)
