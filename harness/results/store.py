"""The results store: one row per device triaged, committed the moment its verdict is known.

DESIGN.md principle 6 (nothing is lost): ``ResultStore.record`` writes a device's result and
all its measurements in one transaction, so a campaign killed at any instant (kill -9 too)
holds every device it finished and none half-written. ``UNIQUE(campaign_id, item_key)`` makes
the database itself refuse a second result for a device, and ``done_items`` tells a restarted
campaign which devices to skip. A device whose triage was interrupted is stored as
``INTERRUPTED`` (visible, but no verdict): it is not done, so a resumed run triages it again,
and its new result replaces that row. SQLite (WAL, ``BEGIN IMMEDIATE``) by default, any SQLAlchemy
URL (PostgreSQL for a facility with several bench hosts; ``postgresql://`` means the psycopg 3
driver); engine and locking come from ``harness.triage.audit_db`` so the audit log and the
results share one database. A device's current-draw trace, where captured, has its own table
(added to an older database when it is next opened for writing; a reader does without it).
So do a device result's return date and SMETS generation (from the returns manifest): nullable
columns added to an older database when it is next opened for writing, read as unknown before.
The tables are in ``schema``, the rows a read returns in ``rows``, the campaign methods in
``campaigns`` and the paged reads for screens (the console) in ``browse``, both base classes
of :class:`ResultStore`; every name callers use is importable from here too.
"""

from __future__ import annotations

import datetime
import json
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import delete, false, func, insert, inspect, or_, select
from sqlalchemy.engine import URL
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from harness.errors import MeterbenchError
from harness.results.browse import DeviceLine, InProgress, Page, StoreBrowsing
from harness.results.campaigns import CampaignQueries, CampaignRow, FinishedCampaign
from harness.results.migrate import upgrade
from harness.results.rows import (
    DeviceRow,
    MeasurementRow,
    device_row,
    measurement_rows,
    read_traces,
)
from harness.results.schema import (
    CORE_TABLES,
    EMULATED,
    INTERRUPTED,
    LATER_COLUMNS,
    PHYSICAL,
    ResultStoreError,
    ResultStoreMissingError,
    campaign_table,
    current_trace_table,
    device_result_table,
    inserted_id,
    measurement_table,
    metadata,
    parse_utc,
    utc_text,
)
from harness.triage.audit_db import (
    ReadTx,
    make_engine,
    sqlite_file,
    to_url,
)
from harness.triage.classify import Verdict
from harness.triage.record import Measurement, TriageRecord

__all__ = [  # the store's public names (the tables, rows and campaigns live beside it)
    "CORE_TABLES",
    "DEFAULT_DB_URL",
    "EMULATED",
    "INTERRUPTED",
    "LATER_COLUMNS",
    "PHYSICAL",
    "SQLITE_HEADER",
    "CampaignRow",
    "DeviceLine",
    "DeviceRow",
    "FinishedCampaign",
    "InProgress",
    "MeasurementRow",
    "Page",
    "ResultStore",
    "ResultStoreError",
    "ResultStoreMissingError",
    "campaign_table",
    "check_db_url",
    "current_trace_table",
    "device_result_table",
    "measurement_table",
    "metadata",
    "parse_utc",
    "utc_text",
]

DEFAULT_DB_URL = "sqlite:///meterbench.db"
"""Where ``--db`` points when not given (the same file as the audit log)."""

SQLITE_HEADER = b"SQLite format 3\x00"
"""The first 16 bytes of every SQLite database file."""


def _check_folder(path: Path, shown: str) -> None:
    """A new SQLite file goes in an existing folder: a mistyped path is an error naming the
    folder, never a tree of folders made behind the operator's back."""
    if not path.parent.is_dir():
        raise ResultStoreError(f"no folder {path.parent} for the results database {shown} "
                               "(create the folder first)", url=shown)


def check_db_url(url: str | Path | URL) -> None:
    """Check a results-store URL without opening or writing anything: its scheme and driver,
    and for SQLite that the file is a database or can be created in an existing folder."""
    try:
        u = to_url(url)
    except ValueError as exc:
        raise ResultStoreError(str(exc)) from None
    shown = u.render_as_string(hide_password=True)
    path = sqlite_file(u)
    if path is None:
        return
    if path.is_dir():
        raise ResultStoreError(f"{path} is a folder, not a results database ({shown})",
                               url=shown)
    if not path.exists():
        _check_folder(path, shown)
        try:  # what SQLite will do: create a file there (this one is removed at once)
            with tempfile.TemporaryFile(dir=path.parent):
                pass
        except OSError as exc:
            raise ResultStoreError(f"cannot create the results database in {path.parent}: "
                                   f"{exc.strerror or exc}", url=shown) from None
        return
    try:
        with path.open("rb") as fh:
            head = fh.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise ResultStoreError(f"cannot read the results database {path}: "
                               f"{exc.strerror or exc}", url=shown) from None
    if head and head != SQLITE_HEADER:
        raise ResultStoreError(f"{path} is not a SQLite database (its first bytes are "
                               f"{head[:8]!r})", url=shown)




def _measurement_values(result_id: int, m: Measurement) -> dict[str, Any]:
    numeric = (float(m.value) if isinstance(m.value, int | float)
               and not isinstance(m.value, bool) else None)
    if m.allowed is not None:
        expected: str | None = "one of " + ", ".join(m.allowed)
    else:
        expected = None if m.expected is None else repr(m.expected)
    return {"device_result_id": result_id, "clause": m.clause, "name": m.name,
            "value": None if m.value is None else str(m.value), "numeric_value": numeric,
            "unit": m.unit, "low": m.low, "high": m.high, "expected": expected,
            "passed": m.passed}


class ResultStore(CampaignQueries, StoreBrowsing):
    """An opened results database: campaigns (:class:`CampaignQueries`), device results,
    measurements, current traces, and paged reads for screens (:class:`StoreBrowsing`)."""

    @classmethod
    def open(cls, url: str | Path | URL = DEFAULT_DB_URL, *, create: bool = True) -> ResultStore:
        """Open the store at ``url``; a missing one raises ResultStoreMissingError unless create.

        ``create=True`` adds the results tables where they are absent (beside an audit log in
        the same file, say); a report opens with ``create=False`` so it never makes a database.
        """
        try:
            u = to_url(url)
        except ValueError as exc:
            raise ResultStoreError(str(exc)) from None
        shown = u.render_as_string(hide_password=True)
        path = sqlite_file(u)
        if path is not None and not path.exists():
            if not create:
                raise ResultStoreMissingError(f"no results database at {shown}: the file does "
                                              "not exist", url=shown)
            _check_folder(path, shown)
        engine = make_engine(u)
        try:
            names = set(inspect(engine).get_table_names())
            if not create and not CORE_TABLES.issubset(names):
                raise ResultStoreMissingError(f"no results in {shown}: the results tables "
                                              "do not exist", url=shown)
            if create:  # new tables and columns as migrations; existing rows are kept
                upgrade(engine, {t.name: {c.name for c in t.columns}
                                 for t in metadata.sorted_tables})
                names = set(inspect(engine).get_table_names())
            missing = _missing_columns(engine, names)
        except SQLAlchemyError as exc:
            engine.dispose()
            reason = getattr(exc, "orig", None) or exc
            raise ResultStoreError(f"cannot open the results database at {shown}: "
                                   f"{' '.join(str(reason).split())}", url=shown) from None
        except MeterbenchError:
            engine.dispose()
            raise
        store = cls(engine, u)
        store._has_traces = current_trace_table.name in names
        store._missing = missing
        store._named = "name" in {c["name"] for c in inspect(engine).get_columns("campaign")} \
            if "campaign" in names else True
        return store

    def close(self) -> None:
        """Release the database connections (idempotent)."""
        self._engine.dispose()

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # device results ------------------------------------------------------------------------

    def record(self, campaign_id: int, record: TriageRecord, verdict: Verdict,
               finished: datetime.datetime | None = None, *,
               transcript: str | None = None, bench: str | None = None,
               return_date: datetime.date | None = None, generation: str | None = None,
               bench_kind: str | None = None, mpxn: str | None = None) -> bool:
        """Commit one device's result and measurements now, in one transaction
        (``return_date``, ``generation``, ``mpxn``: what the returns manifest said of the
        device; ``bench_kind``: EMULATED or PHYSICAL).

        Returns True when written, False when this campaign already holds a result for
        ``record.key`` (the first one stands: a device is never recorded twice).
        """
        done = finished or datetime.datetime.now(datetime.UTC)
        started = record.started if record.started.tzinfo else \
            record.started.replace(tzinfo=datetime.UTC)
        done_aware = done if done.tzinfo else done.replace(tzinfo=datetime.UTC)
        evidence = {**record.as_dict(), "verdict": verdict.as_dict(), "notes": record.notes}
        trace = record.current_trace
        if trace is not None and not self._has_traces:
            raise ResultStoreError(f"{self.shown_url} has no current_trace table (an older "
                                   "database opened read-only): open it with create=True")
        try:
            with self._engine.begin() as conn:
                campaign = conn.execute(select(campaign_table).where(
                    campaign_table.c.id == campaign_id)).first()
                if campaign is None:
                    raise ResultStoreError(f"no campaign {campaign_id} in {self.shown_url}")
                _drop_interrupted(conn, campaign_id, record.key, self._has_traces)
                result = conn.execute(insert(device_result_table).values(
                    campaign_id=campaign_id, item_key=record.key, slot=record.slot,
                    device_id=(record.identity.device_id if record.identity
                               else record.label_device_id),
                    device_type=record.device_type,
                    model=record.identity.model if record.identity else None,
                    label_id=record.label_id, verdict=verdict.kind.value,
                    category=verdict.category, duis_return_reason=verdict.duis_return_reason,
                    reset=verdict.reset, why=verdict.why, started=utc_text(started),
                    finished=utc_text(done_aware),
                    duration_s=max(0.0, (done_aware - started).total_seconds()),
                    operator=record.operator or campaign.operator,
                    role=record.role or campaign.role, bench=bench or campaign.bench,
                    transcript=transcript or record.notes.get("transcript"),
                    evidence=json.dumps(evidence, default=str, sort_keys=True),
                    **self._later(return_date=return_date.isoformat() if return_date else None,
                                  generation=generation, bench_kind=bench_kind,
                                  mpxn=mpxn or None)))
                result_id = inserted_id(result)
                if record.measurements:
                    conn.execute(insert(measurement_table), [
                        _measurement_values(result_id, m) for m in record.measurements])
                if trace is not None:
                    conn.execute(insert(current_trace_table).values(
                        device_result_id=result_id, clause=trace.clause,
                        current_limit_a=trace.current_limit_a, sample_count=len(trace.samples),
                        samples=json.dumps(trace.as_dict()["samples"], separators=(",", ":"))))
        except IntegrityError:
            if record.key in self.done_items(campaign_id):
                return False
            raise
        return True

    def done_items(self, campaign_id: int) -> set[str]:
        """The item keys this campaign has recorded a result for (a resumed run skips them);
        an interrupted device is not done."""
        t = device_result_table
        with ReadTx(self._engine) as conn:
            return set(conn.execute(select(t.c.item_key).where(
                t.c.campaign_id == campaign_id, t.c.verdict != INTERRUPTED)).scalars())

    def interrupted_items(self, campaign_id: int) -> set[str]:
        """The item keys this campaign holds as interrupted (triaged again on resume)."""
        t = device_result_table
        with ReadTx(self._engine) as conn:
            return set(conn.execute(select(t.c.item_key).where(
                t.c.campaign_id == campaign_id, t.c.verdict == INTERRUPTED)).scalars())

    def count(self, campaign_id: int | None = None) -> int:
        """How many device results (in one campaign, or in all), counted by the database."""
        query = select(func.count()).select_from(device_result_table)
        if campaign_id is not None:
            query = query.where(device_result_table.c.campaign_id == campaign_id)
        with ReadTx(self._engine) as conn:
            return int(conn.execute(query).scalar_one())

    def _later(self, **values: Any) -> dict[str, Any]:
        """The later columns' values, for a database that has them (a write open adds them)."""
        if self._missing:
            raise ResultStoreError(f"{self.shown_url} lacks columns {', '.join(self._missing)} "
                                   "(an older database opened read-only): open it with "
                                   "create=True")
        return values

    def results(self, *, since: datetime.date | None = None,
                until: datetime.date | None = None, campaign_id: int | None = None,
                with_measurements: bool = True, with_traces: bool = True,
                by_return_date: bool = False, emulated: bool | None = None,
                light: bool = False) -> list[DeviceRow]:
        """Device results finished in ``[since, until]`` (whole UTC days), oldest first; with
        ``by_return_date`` those whose devices were returned in that period (the manifest's
        return date: a result without one is left out when a period is given). ``emulated``
        True: only an emulated bench's results; False: none of them (a result from before
        benches were recorded counts as a lab's); None: all. ``light``: summaries only, what
        a report's index and the RFI figures read (no evidence, transcript, measurements or
        trace: ``evidence`` is {} and ``transcript`` None), so 10,000 of them fit in memory;
        :meth:`full_results` reads the rest page by page."""
        t = device_result_table
        left_out = self._missing + (("evidence", "transcript") if light else ())
        columns = [c for c in t.c if c.name not in left_out]
        with_measurements = with_measurements and not light
        with_traces = with_traces and not light
        query = select(*columns).order_by(t.c.finished, t.c.id)
        if emulated is not None:
            if "bench_kind" in self._missing:  # an older database: nothing marked emulated
                query = query.where(false()) if emulated else query
            elif emulated:
                query = query.where(t.c.bench_kind == EMULATED)
            else:
                query = query.where(or_(t.c.bench_kind.is_(None), t.c.bench_kind != EMULATED))
        if by_return_date and (since is not None or until is not None):
            if "return_date" in self._missing:  # an older database: no return dates
                query = query.where(false())
            else:
                query = query.where(t.c.return_date.is_not(None))
                if since is not None:
                    query = query.where(t.c.return_date >= since.isoformat())
                if until is not None:
                    query = query.where(t.c.return_date <= until.isoformat())
        else:
            if since is not None:
                query = query.where(t.c.finished >= utc_text(_day_start(since)))
            if until is not None:
                query = query.where(
                    t.c.finished < utc_text(_day_start(until) + datetime.timedelta(days=1)))
        if campaign_id is not None:
            query = query.where(t.c.campaign_id == campaign_id)
        with ReadTx(self._engine) as conn:
            rows = conn.execute(query).all()
            by_result = measurement_rows(conn, [r.id for r in rows]) \
                if with_measurements and rows else {}
            traces = read_traces(conn, rows, self.shown_url) \
                if with_traces and self._has_traces else {}
        return [device_row(r, by_result.get(r.id, ()), traces.get(r.id)) for r in rows]

    def full_results(self, ids: Sequence[int], page: int = 100) -> Iterator[DeviceRow]:
        """The device results of ``ids`` in full (evidence, transcript, measurements, trace),
        in that order, read ``page`` at a time: a report of any size holds one page in memory.
        An id the store no longer holds is a ResultStoreError."""
        t = device_result_table
        columns = [c for c in t.c if c.name not in self._missing]
        for start in range(0, len(ids), page):
            chunk = list(ids[start:start + page])
            with ReadTx(self._engine) as conn:
                rows = {r.id: r for r in conn.execute(select(*columns).where(t.c.id.in_(chunk)))}
                missing = [i for i in chunk if i not in rows]
                if missing:
                    raise ResultStoreError(f"{self.shown_url}: device result {missing[0]} is "
                                           "gone (removed while the report was written)")
                ordered = [rows[i] for i in chunk]
                by_result = measurement_rows(conn, chunk)
                traces = read_traces(conn, ordered, self.shown_url) if self._has_traces else {}
            for r in ordered:
                yield device_row(r, by_result.get(r.id, ()), traces.get(r.id))


def _drop_interrupted(conn: Any, campaign_id: int, item_key: str, has_traces: bool) -> None:
    """Remove a device's interrupted row (and what hangs on it) before its new result goes in:
    the new result is the one that counts, and the device stays counted once."""
    t = device_result_table
    ids = list(conn.execute(select(t.c.id).where(
        t.c.campaign_id == campaign_id, t.c.item_key == item_key,
        t.c.verdict == INTERRUPTED)).scalars())
    if not ids:
        return
    conn.execute(delete(measurement_table).where(measurement_table.c.device_result_id.in_(ids)))
    if has_traces:
        conn.execute(delete(current_trace_table).where(
            current_trace_table.c.device_result_id.in_(ids)))
    conn.execute(delete(t).where(t.c.id.in_(ids)))


def _missing_columns(engine: Any, tables: set[str]) -> tuple[str, ...]:
    """The later ``device_result`` columns an existing database does not have yet."""
    if "device_result" not in tables:
        return ()
    present = {c["name"] for c in inspect(engine).get_columns("device_result")}
    return tuple(c for c in LATER_COLUMNS if c not in present)


def _day_start(day: datetime.date) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, tzinfo=datetime.UTC)
