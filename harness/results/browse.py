"""The results store's paged reads for screens: a page of device lines under filters, one
device in full, campaign pages and summaries; never a whole campaign loaded at once.

:class:`StoreBrowsing` is part of :class:`harness.results.store.ResultStore` (a base class of
it, which supplies the open database), so a screen calls ``store.devices_page(...)``,
``store.device(result_id)`` and the rest, and never touches the store's engine or tables.
A campaign of ten thousand devices is read a page at a time: its verdict counts are one
``GROUP BY``, its RFI figures read seven narrow columns, and its device list is one page of
narrow rows (no transcript, no evidence). One device is read in full by the same row builder
as a report, so a screen shows exactly what the HTML report shows.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection, Index, func, or_, select

from harness.results.campaigns import CampaignRow
from harness.results.rfi import NOT_A_VERDICT, RfiFigures, rfi_figures
from harness.results.rows import DeviceRow, device_row, measurement_rows, read_traces
from harness.results.schema import EMULATED, campaign_table, device_result_table, parse_utc
from harness.triage.audit_db import EngineHolder, ReadTx

PAGE_SIZE = 50
"""Rows per page unless a caller asks for another size."""
MAX_PAGE_SIZE = 500
"""The largest page a caller may ask for: a screen never reads an unbounded list."""

LIST_COLUMNS = ("id", "campaign_id", "item_key", "device_id", "label_id", "device_type", "model",
                "verdict", "category", "why", "duration_s", "finished", "bench", "mpxn")
"""What a device list reads: small columns only (never the transcript or the evidence); an
older database opened read-only may lack ``mpxn`` (read as None)."""

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list: its rows, its number (from 1), how many rows in all, its size."""

    rows: list[T]
    number: int
    total: int
    size: int = PAGE_SIZE

    @property
    def pages(self) -> int:
        """How many pages the list has (at least one)."""
        return max(1, -(-self.total // self.size))


def check_page(number: int, size: int) -> None:
    """Refuse a page number below 1 or a page size outside 1..MAX_PAGE_SIZE (ValueError
    naming which)."""
    if number < 1:
        raise ValueError(f"page number {number}: pages are numbered from 1")
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise ValueError(f"page size {size}: must be 1 to {MAX_PAGE_SIZE} rows")


@dataclass(frozen=True)
class DeviceLine:
    """A device result as a list shows it (the columns of :data:`LIST_COLUMNS`)."""

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
    mpxn: str | None = None  # the MPAN or MPRN the returns manifest gave, where it did


@dataclass(frozen=True)
class InProgress:
    """A campaign not finished, wherever it runs (this host or another on the same store),
    with how many devices have a result and when the latest came (None: none yet)."""

    campaign: CampaignRow
    devices: int
    last_result: str | None


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
BROWSE_INDEX = Index("device_result_by_campaign", _d.campaign_id, _d.verdict, _d.bench_kind,
                     _d.device_type, _d.category, _d.reset, _d.generation)
"""What a campaign's pages read (verdict counts, a page of ids, whether emulated, the columns
of the RFI figures) without touching the rows themselves, whose transcripts make each one
kilobytes long."""

_rfi_cache: dict[tuple[str, int], tuple[tuple[int, int], RfiFigures]] = {}
_rfi_lock = threading.Lock()


class StoreBrowsing(EngineHolder):
    """The paged read methods of the results store (a base class of ``ResultStore``)."""

    _missing: tuple[str, ...] = ()  # LATER_COLUMNS an older database opened read-only lacks
    _has_traces: bool = True  # False for an older database opened without create

    def add_browse_index(self) -> bool:
        """Add :data:`BROWSE_INDEX` where it is missing (a write; True when the store can
        have it: an older database opened read-only lacks columns it names)."""
        if self._missing:
            return False
        with self._engine.begin() as conn:
            BROWSE_INDEX.create(conn, checkfirst=True)
        return True

    # campaigns ------------------------------------------------------------------------------

    def campaigns_page(self, number: int = 1, size: int = PAGE_SIZE) -> Page[CampaignRow]:
        """Campaigns, newest first, page ``number`` of ``size`` (ValueError outside bounds)."""
        check_page(number, size)
        t = campaign_table
        with ReadTx(self._engine) as conn:
            total = int(conn.execute(select(func.count()).select_from(t)).scalar_one())
            rows = self._campaign_rows(conn, select(t).order_by(t.c.id.desc()).limit(size)
                                       .offset((number - 1) * size))
        return Page(rows, number, total, size)

    def campaign(self, campaign_id: int) -> CampaignRow | None:
        """One campaign, or None when the store has no campaign of that id."""
        t = campaign_table
        with ReadTx(self._engine) as conn:
            found = self._campaign_rows(conn, select(t).where(t.c.id == campaign_id))
        return found[0] if found else None

    def in_progress(self, limit: int = 20) -> list[InProgress]:
        """The unfinished campaigns, newest first (at most ``limit``): the benches of the
        whole facility where the store is shared (PostgreSQL), whoever started them."""
        check_page(1, limit)
        t, d = campaign_table, device_result_table
        with ReadTx(self._engine) as conn:
            rows = self._campaign_rows(conn, select(t).where(t.c.finished.is_(None))
                                       .order_by(t.c.id.desc()).limit(limit))
            out = []
            for c in rows:
                n, last = conn.execute(select(func.count(), func.max(d.c.finished))
                                       .where(d.c.campaign_id == c.id)).one()
                out.append(InProgress(c, int(n), parse_utc(last).strftime("%Y-%m-%d %H:%M:%S")
                                      if last else None))
        return out

    def verdict_counts(self, campaign_id: int) -> Counter[str]:
        """Device results per verdict in a campaign, counted by the database (empty for an
        unknown campaign)."""
        d = device_result_table
        with ReadTx(self._engine) as conn:
            return Counter({v: int(n) for v, n in conn.execute(
                select(d.c.verdict, func.count()).where(d.c.campaign_id == campaign_id)
                .group_by(d.c.verdict))})

    def campaign_rfi(self, campaign_id: int) -> RfiFigures:
        """The campaign's RFI figures so far, by ``harness.results.rfi.rfi_figures`` itself.

        Where no device appears twice in the campaign (the usual case) the database groups
        the results and each group is handed to ``rfi_figures`` as that many anonymous rows;
        otherwise the identities are read too and ``rfi_figures`` keeps each device's latest
        result. Computed again only when the campaign's results change (a result added, or
        an interrupted one replaced)."""
        d = device_result_table
        with ReadTx(self._engine) as conn:
            seen = conn.execute(select(func.count(), func.max(d.c.id))
                                .where(d.c.campaign_id == campaign_id)).one()
        key, stamp = (self.shown_url, campaign_id), (int(seen[0]), int(seen[1] or 0))
        with _rfi_lock:
            cached = _rfi_cache.get(key)
        if cached is not None and cached[0] == stamp:  # no result added or replaced since
            return cached[1]
        figures = self._campaign_rfi(campaign_id)
        with _rfi_lock:
            _rfi_cache[key] = (stamp, figures)
        return figures

    # devices --------------------------------------------------------------------------------

    def devices_page(self, number: int = 1, size: int = PAGE_SIZE, *,
                     campaign_id: int | None = None, verdict: str | None = None,
                     search: str | None = None, in_evidence: bool = False,
                     total: int | None = None) -> Page[DeviceLine]:
        """Device results, newest first, page ``number`` of ``size`` (ValueError outside
        bounds): of a campaign and/or a verdict, and/or matching ``search`` (item, device ID
        or label ID, case-insensitive, or the MPxN the returns manifest gave: read from the
        narrow search index of migration r0006, not the rows); ``in_evidence`` also searches
        each result's stored evidence (slow: it reads every row; an older result's MPxN may
        be named only there). ``total``: the caller knows how many match (a campaign's
        verdict counts), so the page need not count them."""
        check_page(number, size)
        d = device_result_table
        where = []
        if campaign_id is not None:
            where.append(d.c.campaign_id == campaign_id)
        if verdict:
            where.append(d.c.verdict == verdict)
        if search and search.strip():
            needle = f"%{search.strip().upper()}%"
            terms = [func.upper(d.c.item_key).like(needle),
                     func.upper(d.c.device_id).like(needle),
                     func.upper(d.c.label_id).like(needle)]
            if "mpxn" not in self._missing:
                terms.append(d.c.mpxn.like(needle))  # digits only: no case to fold
            if in_evidence:
                terms.append(d.c.evidence.like(f"%{search.strip()}%"))
            where.append(or_(*terms))
        cols = [getattr(d.c, name) for name in LIST_COLUMNS if name not in self._missing]
        with ReadTx(self._engine) as conn:
            if total is None:
                total = int(conn.execute(select(func.count()).select_from(d).where(*where))
                            .scalar_one())
            # The page's ids first (from an index where one serves), then those rows only.
            # A search orders by ``id + 0``: the database then reads the search index alone
            # and sorts what matched, where ``ORDER BY id`` would walk every (long) row.
            order = (d.c.id + 0) if search and search.strip() and not in_evidence else d.c.id
            ids = list(conn.execute(select(d.c.id).where(*where).order_by(order.desc())
                                    .limit(size).offset((number - 1) * size)).scalars())
            rows = [DeviceLine(**{k: getattr(r, k) for k in LIST_COLUMNS
                                  if k not in self._missing})
                    for r in conn.execute(select(*cols).where(d.c.id.in_(ids))
                                          .order_by(d.c.id.desc()))] if ids else []
        return Page(rows, number, total, size)

    def device(self, result_id: int) -> DeviceRow | None:
        """One device result in full (measurements, current trace), as a report reads it;
        None when the store holds no result of that id."""
        d = device_result_table
        columns = [c for c in d.c if c.name not in self._missing]
        with ReadTx(self._engine) as conn:
            row = conn.execute(select(*columns).where(d.c.id == result_id)).first()
            if row is None:
                return None
            measurements = measurement_rows(conn, [result_id]).get(result_id, [])
            traces = read_traces(conn, [row], self.shown_url) if self._has_traces else {}
        return device_row(row, measurements, traces.get(row.id))

    # helpers --------------------------------------------------------------------------------

    def _emulated(self, conn: Connection, campaign_id: int) -> bool | None:
        """What a campaign's results say of their bench (as ``campaigns()``), from two
        lookups that stop at the first row rather than a scan of every result."""
        if "bench_kind" in self._missing:
            return None
        d = device_result_table
        mine = d.c.campaign_id == campaign_id
        if conn.execute(select(d.c.id).where(mine, d.c.bench_kind == EMULATED).limit(1)).first():
            return True
        if conn.execute(select(d.c.id).where(mine, d.c.bench_kind.is_not(None))
                        .limit(1)).first():
            return False
        return None

    def _campaign_rows(self, conn: Connection, query: Any) -> list[CampaignRow]:
        return [CampaignRow(id=r.id, bench=r.bench, operator=r.operator, role=r.role,
                            batch_name=r.batch_name, started=parse_utc(r.started),
                            finished=parse_utc(r.finished) if r.finished else None,
                            emulated=self._emulated(conn, r.id),
                            name=getattr(r, "name", None))
                for r in conn.execute(query).all()]

    def _campaign_rfi(self, campaign_id: int) -> RfiFigures:
        d = device_result_table
        mine = d.c.campaign_id == campaign_id
        gen = [d.c.generation] if "generation" not in self._missing else []
        kinds = [d.c.device_type, d.c.verdict, d.c.category, d.c.reset, *gen]
        ident = func.upper(func.coalesce(d.c.device_id, d.c.label_id))
        with ReadTx(self._engine) as conn:
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
