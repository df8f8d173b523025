"""The results store's campaigns: start, find, resume and finish one, and list them.

A campaign is a batch triaged on a bench. :class:`CampaignQueries` is part of
:class:`harness.results.store.ResultStore` (a base class of it, which supplies the open
database), so ``store.resume_or_start(...)`` and the rest are the store's own methods; this
module keeps them in one place, beside the rows they return.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, insert, select, update

from harness.results.schema import (
    EMULATED,
    INTERRUPTED,
    campaign_table,
    device_result_table,
    inserted_id,
    parse_utc,
    utc_text,
)
from harness.triage.audit_db import EngineHolder, ReadTx


@dataclass(frozen=True)
class CampaignRow:
    """A stored campaign, as reports name it (``emulated`` None: the store does not say)."""

    id: int
    bench: str
    operator: str
    role: str
    batch_name: str
    started: datetime.datetime
    finished: datetime.datetime | None
    emulated: bool | None = None
    name: str | None = None  # a facility campaign's name (hosts join it by it)



@dataclass(frozen=True)
class FinishedCampaign:
    """A campaign that triaged its whole batch: what a run of the same batch is told."""

    id: int
    bench: str
    batch_name: str
    finished: datetime.datetime
    devices: int

    def nothing_to_do(self, again: str = "--again") -> str:
        """Why a run of the same batch does nothing, and how to make it triage again."""
        return (f"batch {self.batch_name} was triaged on bench {self.bench} by campaign "
                f"{self.id} (finished {self.finished:%Y-%m-%d %H:%M} UTC, {self.devices} "
                f"devices): nothing to do. Its results stay in the store; {again} triages "
                "every device again as a new campaign")



class CampaignQueries(EngineHolder):
    """The campaign methods of the results store (a base class of ``ResultStore``)."""

    _missing: tuple[str, ...] = ()  # LATER_COLUMNS an older database opened read-only lacks
    _named: bool = True  # False: an older database opened read-only has no campaign.name

    def start_campaign(self, *, bench: str, operator: str, role: str, batch_name: str,
                       started: datetime.datetime | None = None) -> int:
        """A new campaign; its id."""
        when = started or datetime.datetime.now(datetime.UTC)
        with self._engine.begin() as conn:
            result = conn.execute(insert(campaign_table).values(
                bench=bench, operator=operator, role=role, batch_name=batch_name,
                started=utc_text(when)))
            return inserted_id(result)

    def find_campaign(self, bench: str, batch_name: str) -> int | None:
        """The latest unfinished campaign of this batch on this bench (to resume), or None."""
        with ReadTx(self._engine) as conn:
            return conn.execute(
                select(campaign_table.c.id)
                .where(campaign_table.c.bench == bench,
                       campaign_table.c.batch_name == batch_name,
                       campaign_table.c.finished.is_(None))
                .order_by(campaign_table.c.id.desc()).limit(1)).scalar()

    def finished_campaign(self, bench: str, batch_name: str) -> FinishedCampaign | None:
        """The latest finished campaign of this batch on this bench, when none is unfinished
        (a run of the same batch would then triage every device again); else None."""
        t, d = campaign_table, device_result_table
        with ReadTx(self._engine) as conn:
            latest = conn.execute(
                select(t.c.id, t.c.finished).where(t.c.bench == bench,
                                                   t.c.batch_name == batch_name)
                .order_by(t.c.id.desc()).limit(1)).first()
            if latest is None or latest.finished is None:
                return None
            devices = conn.execute(select(func.count()).select_from(d).where(
                d.c.campaign_id == latest.id, d.c.verdict != INTERRUPTED)).scalar_one()
        return FinishedCampaign(int(latest.id), bench, batch_name, parse_utc(latest.finished),
                                int(devices))

    def resume_or_start(self, *, bench: str, operator: str, role: str, batch_name: str) -> int:
        """The unfinished campaign of this batch on this bench, or a new one (one transaction)."""
        with self._engine.begin() as conn:  # BEGIN IMMEDIATE on SQLite: two starters queue
            if conn.dialect.name == "postgresql":  # the same there: starters take turns
                conn.exec_driver_sql("LOCK TABLE campaign IN SHARE ROW EXCLUSIVE MODE")
            found = conn.execute(
                select(campaign_table.c.id)
                .where(campaign_table.c.bench == bench,
                       campaign_table.c.batch_name == batch_name,
                       campaign_table.c.finished.is_(None))
                .order_by(campaign_table.c.id.desc()).limit(1)).scalar()
            if found is not None:
                return int(found)
            result = conn.execute(insert(campaign_table).values(
                bench=bench, operator=operator, role=role, batch_name=batch_name,
                started=utc_text(datetime.datetime.now(datetime.UTC))))
            return inserted_id(result)

    def finish_campaign(self, campaign_id: int,
                        finished: datetime.datetime | None = None) -> None:
        """Mark a campaign complete: it is no longer offered for resuming."""
        when = finished or datetime.datetime.now(datetime.UTC)
        with self._engine.begin() as conn:
            conn.execute(update(campaign_table).where(campaign_table.c.id == campaign_id)
                         .values(finished=utc_text(when)))

    def campaigns(self, ids: Sequence[int] | set[int] | None = None) -> list[CampaignRow]:
        """The campaigns ``ids`` (every one when None), oldest first: what a report names."""
        t = campaign_table
        query = select(*[c for c in t.c if self._named or c.name != "name"]).order_by(t.c.id)
        if ids is not None:
            query = query.where(t.c.id.in_(sorted(ids)))
        d = device_result_table
        with ReadTx(self._engine) as conn:
            kinds: dict[int, set[str]] = {}
            if "bench_kind" not in self._missing:  # what its results say of their bench
                for cid, kind in conn.execute(select(d.c.campaign_id, d.c.bench_kind)
                                              .where(d.c.bench_kind.is_not(None)).distinct()):
                    kinds.setdefault(cid, set()).add(kind)
            return [CampaignRow(
                id=r.id, bench=r.bench, operator=r.operator, role=r.role,
                batch_name=r.batch_name, started=parse_utc(r.started),
                finished=parse_utc(r.finished) if r.finished else None,
                emulated=(EMULATED in kinds[r.id]) if r.id in kinds else None,
                name=getattr(r, "name", None))
                for r in conn.execute(query)]
