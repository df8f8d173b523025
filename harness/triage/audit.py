"""The append-only audit log of destructive operations and refusals, chained by SHA-256.

DESIGN.md principles 6-7 and issue 6: every destructive operation and every refusal is
written as it happens, and the log cannot be silently edited.  Each entry's hash covers its
canonical JSON and the previous entry's hash; a one-row head record (count, last hash) is
updated in the same transaction, so an edit, a deletion or a truncation shows in
:meth:`AuditLog.verify`.  A missing log is an error, never silently recreated: only
``AuditLog.open(url, create=True)`` makes one.  SQLite by default (WAL, ``BEGIN IMMEDIATE``
so writers in several processes queue and the chain never forks); any SQLAlchemy URL works,
the head row being locked ``FOR UPDATE`` where the database supports it.  The hash chain
detects changes made after the fact; it cannot tell a whole log rewritten by someone with
write access from an honest one, so record the last hash that ``verify`` prints elsewhere.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, insert, inspect, select, update
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from harness.errors import MeterbenchError
from harness.triage.audit_db import (
    APPEND_ONLY_DDL,
    EngineHolder,
    ReadTx,
    entries_table,
    head_table,
    make_engine,
    metadata,
    sqlite_file,
    to_url,
)

__all__ = [
    "DEFAULT_DB_URL",
    "GENESIS_HASH",
    "AuditEntry",
    "AuditLog",
    "AuditLogError",
    "AuditLogMissingError",
    "Outcome",
    "Problem",
    "VerifyReport",
    "verify_log",
]

DEFAULT_DB_URL = "sqlite:///meterbench.db"
"""Where ``--db`` points when not given: a SQLite file in the working directory."""

GENESIS_HASH = "0" * 64
"""The previous hash of the first entry."""

_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


class AuditLogError(MeterbenchError, RuntimeError):
    """The audit log cannot be used: unreadable, inconsistent, or the database refused."""


class AuditLogMissingError(MeterbenchError, FileNotFoundError):
    """There is no audit log at the URL (and the caller did not ask to create one)."""


class Outcome(StrEnum):
    """How an audited operation ended (``started`` is written before a destructive step)."""

    STARTED = "started"
    DONE = "done"
    REFUSED = "refused"
    FAILED = "failed"



def canonical_json(value: Any) -> str:
    """Deterministic JSON: sorted keys, no spaces, UTF-8 kept, no NaN."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


@dataclass(frozen=True)
class AuditEntry:
    """One line of the log: who did what to which device under which clause, and how it ended."""

    seq: int
    at: datetime.datetime
    operator: str
    role: str
    bench: str
    device_id: str | None
    clause: str | None
    action: str
    outcome: str
    detail: dict[str, Any]
    prev_hash: str
    hash: str

    def payload(self) -> dict[str, Any]:
        """The hashed content: every field but the entry's own hash."""
        return {"seq": self.seq, "at": self.at.strftime(_TIME_FORMAT),
                "operator": self.operator, "role": self.role, "bench": self.bench,
                "device_id": self.device_id, "clause": self.clause, "action": self.action,
                "outcome": self.outcome, "detail": self.detail, "prev_hash": self.prev_hash}

    def computed_hash(self) -> str:
        """SHA-256 over the previous hash and this entry's canonical JSON."""
        text = self.prev_hash + canonical_json(self.payload())
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Problem:
    """One thing :meth:`AuditLog.verify` found wrong; ``seq`` names the entry where it can."""

    kind: str  # edited, deleted, broken_link, truncated, head, incomplete, missing
    message: str
    seq: int | None = None


@dataclass
class VerifyReport:
    """What verifying a log found: its size, last hash and every problem."""

    url: str
    count: int = 0
    last_hash: str | None = None
    head_count: int | None = None
    problems: list[Problem] = field(default_factory=list)
    missing: bool = False

    @property
    def ok(self) -> bool:
        """True when the log exists and nothing is wrong with it."""
        return not self.missing and not self.problems

    @property
    def tampered(self) -> bool:
        """True when the log exists but fails verification."""
        return not self.missing and bool(self.problems)



def _url(url: str | Path | URL) -> URL:
    """``to_url`` with a bad URL reported as an AuditLogError."""
    try:
        return to_url(url)
    except ValueError as exc:
        raise AuditLogError(str(exc)) from None


def _utc_text(when: datetime.datetime) -> str:
    return when.astimezone(datetime.UTC).strftime(_TIME_FORMAT)


def _entry(row: Any) -> AuditEntry:
    """An entry from its row; a row whose fields no longer parse raises ValueError."""
    at = datetime.datetime.strptime(row.at, _TIME_FORMAT).replace(tzinfo=datetime.UTC)
    detail = json.loads(row.detail)
    if not isinstance(detail, dict):
        raise ValueError("detail is not a JSON object")
    return AuditEntry(row.seq, at, row.operator, row.role, row.bench, row.device_id, row.clause,
                      row.action, row.outcome, detail, row.prev_hash, row.hash)


class AuditLog(EngineHolder):
    """An opened audit log: append entries, read them back, verify the chain."""

    @classmethod
    def open(cls, url: str | Path | URL = DEFAULT_DB_URL, *, create: bool = False) -> AuditLog:
        """Open the log at ``url``; a missing one raises AuditLogMissingError unless ``create``.

        ``create=True`` makes a new, empty log only where there is none; it never replaces or
        completes a log that exists, even in part (a lone table means tampering).
        """
        u = _url(url)
        shown = u.render_as_string(hide_password=True)
        path = sqlite_file(u)
        if path is not None and not path.exists():  # connecting would create the file
            if not create:
                raise AuditLogMissingError(f"no audit log at {shown}: the database file does "
                                           "not exist (create one explicitly)", url=shown)
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = make_engine(u)
        try:
            names = set(inspect(engine).get_table_names())
            present = {t.name for t in metadata.sorted_tables} & names
            if not present:
                if not create:
                    raise AuditLogMissingError(f"no audit log in {shown}: its tables do not "
                                               "exist (create one explicitly)", url=shown)
                cls._create(engine)
            elif len(present) < len(metadata.tables):
                lost = ", ".join(sorted(set(metadata.tables) - present))
                raise AuditLogError(f"the audit log in {shown} is incomplete: table {lost} "
                                    "is missing (tampered?); it is not recreated", url=shown)
        except SQLAlchemyError as exc:
            engine.dispose()
            raise AuditLogError(f"cannot open the audit log at {shown}: {exc}", url=shown) from None
        except MeterbenchError:
            engine.dispose()
            raise
        return cls(engine, u)

    @staticmethod
    def _create(engine: Engine) -> None:
        with engine.begin() as conn:
            metadata.create_all(conn)
            for ddl in APPEND_ONLY_DDL.get(engine.dialect.name, ()):
                conn.exec_driver_sql(ddl)
            if conn.execute(select(head_table.c.id)).first() is None:
                now = _utc_text(datetime.datetime.now(datetime.UTC))
                conn.execute(insert(head_table).values(id=1, count=0, last_hash=GENESIS_HASH,
                                                       created_at=now))

    def close(self) -> None:
        """Release the database connections (idempotent)."""
        self._engine.dispose()

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def append(self, *, operator: str, role: str, action: str, outcome: Outcome | str,
               bench: str = "", device_id: str | None = None, clause: str | None = None,
               detail: Mapping[str, Any] | None = None) -> AuditEntry:
        """Write one entry, chained to the last, in one transaction with the head update.

        Refuses (AuditLogError) to extend a log whose head disagrees with its last entry:
        a destructive run must not continue on a log that has been tampered with.
        """
        try:
            result = Outcome(outcome)
        except ValueError:
            raise ValueError(f"unknown audit outcome {outcome!r}; one of: "
                             + ", ".join(o.value for o in Outcome)) from None
        body = dict(detail or {})
        try:
            body = json.loads(canonical_json(body))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"audit detail must be plain JSON: {exc}") from None
        try:
            with self._engine.begin() as conn:
                head = conn.execute(select(head_table).where(head_table.c.id == 1)
                                    .with_for_update()).first()
                if head is None:
                    raise AuditLogError(f"the audit log at {self.shown_url} has lost its head "
                                        "record: run `meterbench audit verify`")
                last = conn.execute(select(entries_table.c.seq, entries_table.c.hash)
                                    .order_by(entries_table.c.seq.desc()).limit(1)).first()
                found = (last.seq, last.hash) if last else (0, GENESIS_HASH)
                if found != (head.count, head.last_hash):
                    raise AuditLogError(f"the audit log at {self.shown_url} does not match its "
                                        "head record (tampered or truncated): not appending; "
                                        "run `meterbench audit verify`")
                entry = AuditEntry(head.count + 1, datetime.datetime.now(datetime.UTC),
                                   operator, role, bench, device_id, clause, action,
                                   result.value, body, head.last_hash, "")
                entry = dataclasses.replace(entry, hash=entry.computed_hash())
                conn.execute(insert(entries_table).values(
                    seq=entry.seq, at=_utc_text(entry.at), operator=operator, role=role,
                    bench=bench, device_id=device_id, clause=clause, action=action,
                    outcome=result.value, detail=canonical_json(body),
                    prev_hash=entry.prev_hash, hash=entry.hash))
                conn.execute(update(head_table).where(head_table.c.id == 1)
                             .values(count=entry.seq, last_hash=entry.hash))
        except DBAPIError as exc:
            raise AuditLogError(f"cannot append to the audit log at {self.shown_url}: "
                                f"{exc.orig}") from None
        return entry

    def entries(self) -> Iterator[AuditEntry]:
        """Every entry, oldest first."""
        with self._read() as conn:
            for row in conn.execute(select(entries_table).order_by(entries_table.c.seq)):
                yield _entry(row)

    def _read(self) -> ReadTx:
        """A connection whose transaction only reads (SQLite: deferred BEGIN, one snapshot)."""
        return ReadTx(self._engine)

    def verify(self) -> VerifyReport:
        """Walk the chain and the head; report every edited, deleted or missing entry."""
        report = VerifyReport(self.shown_url)
        try:
            with self._read() as conn:
                self._walk(conn, report)
        except DBAPIError as exc:
            report.missing = True
            report.problems.append(Problem("missing", f"the audit log at {self.shown_url} "
                                                      f"cannot be read: {exc.orig}"))
        return report

    @staticmethod
    def _walk(conn: Connection, report: VerifyReport) -> None:
        expected, prev_hash, last_seq = 1, GENESIS_HASH, 0
        for row in conn.execute(select(entries_table).order_by(entries_table.c.seq)):
            seq = row.seq
            report.count += 1
            if seq != expected:
                span = f"entry {expected}" if seq == expected + 1 else \
                    f"entries {expected} to {seq - 1}"
                report.problems.append(Problem(
                    "deleted", f"{span} missing: deleted from the log (gap before entry {seq})",
                    expected))
            elif row.prev_hash != prev_hash:
                report.problems.append(Problem(
                    "broken_link", f"entry {seq}: does not link to entry {seq - 1} (its "
                    f"previous hash differs): entry {seq - 1} was replaced", seq))
            try:
                intact = _entry(row).computed_hash() == row.hash
            except ValueError:
                intact = False
            if not intact:
                report.problems.append(Problem(
                    "edited", f"entry {seq}: content does not match its hash: edited after "
                    "it was written", seq))
            expected, prev_hash, last_seq = seq + 1, row.hash, seq
        report.last_hash = prev_hash if last_seq else None
        head = conn.execute(select(head_table).where(head_table.c.id == 1)).first()
        if head is None:
            report.problems.append(Problem("head", "the head record is missing: truncation "
                                                   "can no longer be ruled out"))
            return
        report.head_count = head.count
        if head.count > last_seq:
            report.problems.append(Problem(
                "truncated", f"truncated: the head records {head.count} entries but the log "
                f"ends at entry {last_seq} ({head.count - last_seq} missing at the end)",
                last_seq + 1))
        elif head.count < last_seq:
            report.problems.append(Problem(
                "head", f"entries {head.count + 1} to {last_seq} are not counted by the head: "
                "written around the log, or the head was rolled back", head.count + 1))
        elif head.last_hash != prev_hash:
            report.problems.append(Problem(
                "head", f"the head's last hash differs from entry {last_seq}'s hash: the last "
                "entry or the head was altered", last_seq or None))



def verify_log(url: str | Path | URL = DEFAULT_DB_URL) -> VerifyReport:
    """Verify the log at ``url``; a missing or incomplete log is a report, not an exception."""
    u = _url(url)
    shown = u.render_as_string(hide_password=True)
    try:
        log = AuditLog.open(u)
    except AuditLogMissingError as exc:
        return VerifyReport(shown, missing=True, problems=[Problem("missing", str(exc))])
    except AuditLogError as exc:
        return VerifyReport(shown, problems=[Problem("incomplete", str(exc))])
    with log:
        return log.verify()
