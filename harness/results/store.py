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
"""

from __future__ import annotations

import datetime
import json
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    delete,
    false,
    func,
    insert,
    inspect,
    or_,
    select,
    update,
)
from sqlalchemy.engine import URL, CursorResult
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from harness.errors import MeterbenchError
from harness.results.migrate import upgrade
from harness.triage.audit_db import (
    EngineHolder,
    ReadTx,
    make_engine,
    sqlite_file,
    to_url,
)
from harness.triage.classify import Verdict
from harness.triage.current_trace import CurrentTrace
from harness.triage.record import Measurement, TriageRecord

DEFAULT_DB_URL = "sqlite:///meterbench.db"
"""Where ``--db`` points when not given (the same file as the audit log)."""

metadata = MetaData()
campaign_table = Table(
    "campaign", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("bench", String(200), nullable=False),
    Column("operator", String(200), nullable=False),
    Column("role", String(40), nullable=False),
    Column("batch_name", String(400), nullable=False),
    Column("started", String(32), nullable=False),
    Column("finished", String(32)),
    Column("name", String(200)),  # facility mode: hosts join it by name; NULL otherwise
    Index("campaign_name_unique", "name", unique=True),
)
"""One row per campaign (a batch on a bench); ``finished`` stays NULL until it completes."""
device_result_table = Table(
    "device_result", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("campaign_id", Integer, ForeignKey("campaign.id"), nullable=False),
    Column("item_key", String(200), nullable=False),
    Column("slot", String(200)),
    Column("device_id", String(64)),
    Column("device_type", String(20), nullable=False),
    Column("model", String(200)),
    Column("label_id", String(200)),
    Column("verdict", String(20), nullable=False),
    Column("category", String(40)),
    Column("duis_return_reason", String(200)),
    Column("reset", Boolean, nullable=False),
    Column("why", Text, nullable=False),
    Column("started", String(32), nullable=False),
    Column("finished", String(32), nullable=False),
    Column("duration_s", Float, nullable=False),
    Column("operator", String(200), nullable=False),
    Column("role", String(40), nullable=False),
    Column("bench", String(200), nullable=False),
    Column("transcript", Text),
    Column("evidence", Text, nullable=False),
    # From the returns manifest (added later: NULL in older rows and in slot-mode results).
    Column("return_date", String(10)),  # YYYY-MM-DD
    Column("generation", String(10)),  # SMETS1 or SMETS2
    Column("bench_kind", String(10)),  # "emulated" or "physical"; NULL: not recorded (older)
    UniqueConstraint("campaign_id", "item_key", name="device_result_once_per_campaign"),
)
"""One row per device per campaign; ``evidence`` is the record's and verdict's JSON."""
measurement_table = Table(
    "measurement", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("device_result_id", Integer, ForeignKey("device_result.id"), nullable=False,
           index=True),
    Column("clause", String(40), nullable=False),
    Column("name", String(200), nullable=False),
    Column("value", Text),
    Column("numeric_value", Float),
    Column("unit", String(40), nullable=False),
    Column("low", Float),
    Column("high", Float),
    Column("expected", Text),
    Column("passed", Boolean, nullable=False),
)
"""Every measurement with its limits (``expected`` holds an equality or one-of limit)."""
current_trace_table = Table(
    "current_trace", metadata,
    Column("device_result_id", Integer, ForeignKey("device_result.id"), primary_key=True,
           autoincrement=False),
    Column("clause", String(40), nullable=False),
    Column("current_limit_a", Float),
    Column("sample_count", Integer, nullable=False),
    Column("samples", Text, nullable=False),
)
"""A device's current-draw trace, where captured: ``samples`` is JSON [[seconds, amps], ...].

One row per device (not one per sample): a trace is read whole, and a row per sample would
multiply the database's size by the hundred samples each device has."""
LATER_COLUMNS = ("return_date", "generation", "bench_kind")
"""``device_result`` columns added after the first schema: nullable, added on a write open
(migration r0003); a read-only open of an older database does without them."""
CORE_TABLES = frozenset({"campaign", "device_result", "measurement"})
"""The tables a results database has had from the start (``current_trace`` came later)."""

EMULATED, PHYSICAL = "emulated", "physical"
"""A result's ``bench_kind``: an emulated bench's devices are no lab's returns, so a report
leaves them out of a lab's figures unless asked (``meterbench report --emulated``)."""

INTERRUPTED = "INTERRUPTED"
"""The stored "verdict" of a device whose triage was stopped part way: redone on resume."""

_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def _inserted_id(result: CursorResult[Any]) -> int:
    """The primary key of the one row a single-row INSERT made."""
    key = result.inserted_primary_key
    assert key is not None  # a single-row INSERT always reports its key
    return int(key[0])


class ResultStoreError(MeterbenchError, RuntimeError):
    """The results database cannot be opened or used."""


class ResultStoreMissingError(ResultStoreError, FileNotFoundError):
    """There is no results database at that URL (and none was to be created)."""


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


def utc_text(when: datetime.datetime) -> str:
    """A sortable UTC timestamp (naive datetimes are taken as UTC)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.UTC)
    return when.astimezone(datetime.UTC).strftime(_TIME_FORMAT)


def parse_utc(text: str) -> datetime.datetime:
    """The inverse of :func:`utc_text`."""
    return datetime.datetime.strptime(text, _TIME_FORMAT).replace(tzinfo=datetime.UTC)


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
class MeasurementRow:
    """A stored measurement, as reports read it."""

    clause: str
    name: str
    value: str | None
    numeric_value: float | None
    unit: str
    low: float | None
    high: float | None
    expected: str | None
    passed: bool


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


@dataclass(frozen=True)
class DeviceRow:
    """A stored device result, as reports and the RFI figures read it."""

    id: int
    campaign_id: int
    item_key: str
    slot: str | None
    device_id: str | None
    device_type: str
    model: str | None
    label_id: str | None
    verdict: str
    category: str | None
    duis_return_reason: str | None
    reset: bool
    why: str
    started: datetime.datetime
    finished: datetime.datetime
    duration_s: float
    operator: str
    role: str
    bench: str
    transcript: str | None
    evidence: dict[str, Any]
    measurements: tuple[MeasurementRow, ...] = field(default=())
    current_trace: CurrentTrace | None = None
    return_date: datetime.date | None = None  # from the returns manifest, where it said
    generation: str | None = None  # SMETS1 or SMETS2; None when not recorded
    bench_kind: str | None = None  # EMULATED or PHYSICAL; None when not recorded

    @property
    def emulated(self) -> bool:
        """Whether an emulated bench triaged it (an emulated device, no lab's return)."""
        return self.bench_kind == EMULATED


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


class ResultStore(EngineHolder):
    """An opened results database: campaigns, device results, measurements, current traces."""

    _has_traces: bool = True  # False for an older database opened without create
    _missing: tuple[str, ...] = ()  # LATER_COLUMNS an older database opened read-only lacks
    _named: bool = True  # False: an older database opened read-only has no campaign.name

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

    # campaigns -----------------------------------------------------------------------------

    def start_campaign(self, *, bench: str, operator: str, role: str, batch_name: str,
                       started: datetime.datetime | None = None) -> int:
        """A new campaign; its id."""
        when = started or datetime.datetime.now(datetime.UTC)
        with self._engine.begin() as conn:
            result = conn.execute(insert(campaign_table).values(
                bench=bench, operator=operator, role=role, batch_name=batch_name,
                started=utc_text(when)))
            return _inserted_id(result)

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
            return _inserted_id(result)

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

    # device results ------------------------------------------------------------------------

    def record(self, campaign_id: int, record: TriageRecord, verdict: Verdict,
               finished: datetime.datetime | None = None, *,
               transcript: str | None = None, bench: str | None = None,
               return_date: datetime.date | None = None, generation: str | None = None,
               bench_kind: str | None = None) -> bool:
        """Commit one device's result and measurements now, in one transaction
        (``return_date``, ``generation``: what the returns manifest said of the device;
        ``bench_kind``: EMULATED or PHYSICAL).

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
                                  generation=generation, bench_kind=bench_kind)))
                result_id = _inserted_id(result)
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
                by_return_date: bool = False, emulated: bool | None = None
                ) -> list[DeviceRow]:
        """Device results finished in ``[since, until]`` (whole UTC days), oldest first; with
        ``by_return_date`` those whose devices were returned in that period (the manifest's
        return date: a result without one is left out when a period is given). ``emulated``
        True: only an emulated bench's results; False: none of them (a result from before
        benches were recorded counts as a lab's); None: all."""
        t = device_result_table
        columns = [c for c in t.c if c.name not in self._missing]
        query = select(*columns).order_by(t.c.finished, t.c.id)
        if emulated is not None:
            if "bench_kind" in self._missing:  # an older database: nothing marked emulated
                query = query.where(false()) if emulated else query
            elif emulated:
                query = query.where(t.c.bench_kind == EMULATED)
            else:
                query = query.where(or_(t.c.bench_kind.is_(None), t.c.bench_kind != EMULATED))
        if by_return_date and (since is not None or until is not None):
            if self._missing:  # an older database: no result has a return date
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
            by_result: dict[int, list[MeasurementRow]] = {}
            if with_measurements and rows:
                ids = [r.id for r in rows]
                m = measurement_table
                for chunk in (ids[i:i + 500] for i in range(0, len(ids), 500)):
                    for mr in conn.execute(select(m).where(m.c.device_result_id.in_(chunk))
                                           .order_by(m.c.id)):
                        by_result.setdefault(mr.device_result_id, []).append(MeasurementRow(
                            mr.clause, mr.name, mr.value, mr.numeric_value, mr.unit, mr.low,
                            mr.high, mr.expected, bool(mr.passed)))
            traces = self._traces(conn, rows) if with_traces and self._has_traces else {}
        return [_device_row(r, by_result.get(r.id, ()), traces.get(r.id)) for r in rows]

    def _traces(self, conn: Any, rows: Sequence[Any]) -> dict[int, CurrentTrace]:
        """The current traces of these device results, by result id."""
        traces: dict[int, CurrentTrace] = {}
        keys = {r.id: r.item_key for r in rows}
        t = current_trace_table
        ids = list(keys)
        for chunk in (ids[i:i + 500] for i in range(0, len(ids), 500)):
            for tr in conn.execute(select(t).where(t.c.device_result_id.in_(chunk))):
                where = (f"{self.shown_url}: current_trace of device result "
                         f"{tr.device_result_id} ({keys[tr.device_result_id]})")
                try:
                    traces[tr.device_result_id] = CurrentTrace.from_dict(
                        {"samples": json.loads(tr.samples), "clause": tr.clause,
                         "current_limit_a": tr.current_limit_a}, where)
                except ValueError as exc:  # json.JSONDecodeError is one too
                    raise ResultStoreError(str(exc) if str(exc).startswith(where)
                                           else f"{where}: samples: {exc}") from None
        return traces


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


def _device_row(r: Any, measurements: Sequence[MeasurementRow],
                trace: CurrentTrace | None = None) -> DeviceRow:
    return DeviceRow(
        id=r.id, campaign_id=r.campaign_id, item_key=r.item_key, slot=r.slot,
        device_id=r.device_id, device_type=r.device_type, model=r.model, label_id=r.label_id,
        verdict=r.verdict, category=r.category, duis_return_reason=r.duis_return_reason,
        reset=bool(r.reset), why=r.why, started=parse_utc(r.started),
        finished=parse_utc(r.finished), duration_s=r.duration_s, operator=r.operator,
        role=r.role, bench=r.bench, transcript=r.transcript, evidence=json.loads(r.evidence),
        measurements=tuple(measurements), current_trace=trace,
        return_date=(datetime.date.fromisoformat(r.return_date)
                     if getattr(r, "return_date", None) else None),
        generation=getattr(r, "generation", None), bench_kind=getattr(r, "bench_kind", None))
