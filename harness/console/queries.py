"""The console's reads of the results store and the audit log, a page at a time.

A campaign of ten thousand devices is never loaded whole: its verdict counts are one
``GROUP BY``, its RFI figures read seven narrow columns, and its device list is one page of
narrow rows (no transcript, no evidence).  A device page reads that one device in full, through
the store's own row builder, so it shows exactly what the HTML report shows.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select

from harness.results.rfi import RfiFigures, rfi_figures
from harness.results.store import (
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


def page_number(text: str | None) -> int:
    """A ``page`` query parameter as a page number (bad or missing: the first page)."""
    try:
        return max(1, int(text or 1))
    except ValueError:
        return 1


def _lines(conn: Any, query: Any) -> list[DeviceLine]:
    return [DeviceLine(**{k: getattr(r, k) for k in LIST_COLUMNS}) for r in conn.execute(query)]


def campaigns_page(store: ResultStore, number: int) -> Page:
    """Campaigns, newest first, one page."""
    t = campaign_table
    with ReadTx(store._engine) as conn:
        total = int(conn.execute(select(func.count()).select_from(t)).scalar_one())
        ids = list(conn.execute(select(t.c.id).order_by(t.c.id.desc()).limit(PAGE_SIZE)
                                .offset((number - 1) * PAGE_SIZE)).scalars())
    rows = sorted(store.campaigns(ids), key=lambda c: -c.id) if ids else []
    return Page(rows, number, total)


def campaign(store: ResultStore, campaign_id: int) -> CampaignRow | None:
    """One campaign, or None."""
    found = store.campaigns([campaign_id])
    return found[0] if found else None


def verdict_counts(store: ResultStore, campaign_id: int) -> Counter[str]:
    """Devices per verdict in a campaign, counted by the database."""
    d = device_result_table
    with ReadTx(store._engine) as conn:
        return Counter({v: int(n) for v, n in conn.execute(
            select(d.c.verdict, func.count()).where(d.c.campaign_id == campaign_id)
            .group_by(d.c.verdict))})


def campaign_rfi(store: ResultStore, campaign_id: int) -> RfiFigures:
    """The campaign's RFI figures so far, from the seven columns they need."""
    d = device_result_table
    generation = d.c.generation if "generation" not in store._missing else None
    cols = [d.c.device_type, d.c.verdict, d.c.category, d.c.reset, d.c.device_id, d.c.label_id]
    with ReadTx(store._engine) as conn:
        rows = conn.execute(select(*cols, *( [generation] if generation is not None else []))
                            .where(d.c.campaign_id == campaign_id)
                            .order_by(d.c.finished, d.c.id)).all()
    return rfi_figures(_RfiRow(r[0], r[1], r[2], bool(r[3]), r[4], r[5],
                               r[6] if len(r) > 6 else None) for r in rows)


def devices_page(store: ResultStore, number: int, *, campaign_id: int | None = None,
                 verdict: str | None = None, search: str | None = None) -> Page:
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
        total = int(conn.execute(select(func.count()).select_from(d).where(*where)).scalar_one())
        rows = _lines(conn, select(*cols).where(*where).order_by(d.c.id.desc())
                      .limit(PAGE_SIZE).offset((number - 1) * PAGE_SIZE))
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
