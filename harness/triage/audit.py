"""The append-only audit log of destructive operations and refusals, a chain keyed by HMAC.

DESIGN.md principles 6-7, issues 6 and 12: every destructive operation and every refusal is
written as it happens, and the log cannot be silently edited, even by someone who can write
the database.  Each entry's tag is HMAC-SHA256, under a site key the database does not hold
(:mod:`harness.triage.audit_key`), over the previous tag and the entry's canonical JSON; a
one-row head (count, last tag, key id, log id) carries its own MAC and is updated in the same
transaction.  Without the key an edit, a deletion, a renumbering or a recomputed chain shows
in :meth:`AuditLog.verify`; tail truncation with a replayed head, or a log rewritten by the
key holder, shows against a checkpoint kept outside the database
(:mod:`harness.triage.audit_checkpoint`).  ``verify`` also reports dropped or altered
append-only triggers, and, as warnings, ``started`` entries never closed by ``done`` or
``failed`` (a process killed mid-operation).  A missing log is an error, never silently
recreated: only ``AuditLog.open(url, create=True)`` makes one.  SQLite by default (WAL,
``BEGIN IMMEDIATE`` so writers in several processes queue and the chain never forks); any
SQLAlchemy URL works, the head row being locked ``FOR UPDATE`` where the database supports it.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import secrets
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, inspect, select, update
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from harness.errors import MeterbenchError
from harness.triage.audit_db import (
    APPEND_ONLY_DDL,
    SCHEMA_LOCK,
    EngineHolder,
    ReadTx,
    entries_table,
    head_table,
    make_engine,
    metadata,
    show_url,
    sqlite_file,
    to_url,
    trigger_problems,
)
from harness.triage.audit_key import AuditKey, AuditKeyError, create_key_file, load_key

__all__ = [
    "DEFAULT_DB_URL",
    "GENESIS_HASH",
    "AuditEntry",
    "AuditLog",
    "AuditLogError",
    "AuditLogMissingError",
    "AuditLogTamperedError",
    "Outcome",
    "Problem",
    "VerifyReport",
    "discard_scratch_log",
    "open_scratch_log",
    "verify_log",
    "verify_log_and_key",
]

DEFAULT_DB_URL = "sqlite:///meterbench.db"
"""Where ``--db`` points when not given: a SQLite file in the working directory."""

GENESIS_HASH = "0" * 64
"""The previous tag of the first entry."""

_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


class AuditLogError(MeterbenchError, RuntimeError):
    """The audit log cannot be used: unreadable, no key, or the database refused."""


class AuditLogMissingError(MeterbenchError, FileNotFoundError):
    """There is no audit log at the URL (and the caller did not ask to create one)."""


class AuditLogTamperedError(AuditLogError):
    """The log's tables are there only in part, or lack columns: tampered, not recreated."""


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


def printable(text: str) -> str:
    """``text`` safe to print: undecodable bytes of a path (surrogates) shown as ``\\xNN``."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


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
        """The tagged content: every field but the entry's own tag."""
        return {"seq": self.seq, "at": self.at.strftime(_TIME_FORMAT),
                "operator": self.operator, "role": self.role, "bench": self.bench,
                "device_id": self.device_id, "clause": self.clause, "action": self.action,
                "outcome": self.outcome, "detail": self.detail, "prev_hash": self.prev_hash}

    def computed_hash(self, key: AuditKey) -> str:
        """HMAC-SHA256 under ``key`` over the previous tag and this entry's canonical JSON."""
        text = "meterbench-audit-entry\n" + self.prev_hash + canonical_json(self.payload())
        return key.mac(text.encode("utf-8"))


def head_mac(key: AuditKey, count: int, last_hash: str, created_at: str, key_id: str,
             log_id: str) -> str:
    """The head row's MAC: an edited count, tag, key id or log id no longer matches it."""
    body = {"count": count, "last_hash": last_hash, "created_at": created_at,
            "key_id": key_id, "log_id": log_id}
    return key.mac(("meterbench-audit-head\n" + canonical_json(body)).encode("utf-8"))


@dataclass(frozen=True)
class Problem:
    """One thing :meth:`AuditLog.verify` found; ``seq`` names the entry where it can.

    Tampering kinds: edited, deleted, broken_link, truncated, head, schema, trigger,
    checkpoint, replaced.  Warning kind (not tampering): incomplete_operation.
    """

    kind: str
    message: str
    seq: int | None = None


@dataclass
class VerifyReport:
    """What verifying a log found: its size, last tag, every problem and every warning."""

    url: str
    count: int = 0
    last_hash: str | None = None
    head_count: int | None = None
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    missing: bool = False
    key_id: str | None = None
    log_id: str | None = None
    tags: dict[int, str] = field(default_factory=dict, repr=False)
    intact: int = 0  # entries whose tag verifies under the key
    checkpoints: int = 0

    @property
    def ok(self) -> bool:
        """True when the log exists and nothing was tampered with (warnings allowed)."""
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
        raise AuditLogError(printable(str(exc))) from None


def _show(u: URL) -> str:
    """The URL as messages print it (password hidden, undecodable bytes escaped)."""
    return printable(show_url(u))


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


def _check_schema(engine: Engine, shown: str, create: bool) -> bool:
    """True when the log's tables are all there, False when none is; raises when in part."""
    names = set(inspect(engine).get_table_names())
    present = {t.name for t in metadata.sorted_tables} & names
    if not present:
        if not create:
            raise AuditLogMissingError(f"no audit log in {shown}: its tables do not "
                                       "exist (create one explicitly)", url=shown)
        return False
    if len(present) < len(metadata.tables):
        lost = ", ".join(sorted(set(metadata.tables) - present))
        raise AuditLogTamperedError(f"the audit log in {shown} is incomplete: table {lost} "
                                    "is missing (tampered?); it is not recreated", url=shown)
    for table in metadata.sorted_tables:
        columns = {c["name"] for c in inspect(engine).get_columns(table.name)}
        dropped = sorted(c.name for c in table.columns if c.name not in columns)
        if dropped and table is head_table and dropped == ["key_id", "log_id", "mac"]:
            raise AuditLogError(f"the audit log in {shown} has an unkeyed chain (made before "
                                "keyed logs): start a new one with `meterbench audit init "
                                "--db NEW_URL` and keep this one read-only", url=shown)
        if dropped:
            raise AuditLogTamperedError(f"the audit log in {shown}: table {table.name} has "
                                        f"lost column(s) {', '.join(dropped)} (tampered?)",
                                        url=shown)
    return True


def _resolve_key(key: AuditKey | str | None, shown: str) -> AuditKey:
    """The key itself, or the one a reference (or the environment, or the default) names."""
    if isinstance(key, AuditKey):
        return key
    try:
        return load_key(key)
    except AuditKeyError as exc:
        raise AuditLogError(f"the audit log at {shown} needs its key: {exc}") from None


class AuditLog(EngineHolder):
    """An opened audit log: append entries, read them back, verify the chain."""

    def __init__(self, engine: Engine, url: URL, key: AuditKey | str | None = None) -> None:
        super().__init__(engine, url)
        self._key_ref = key
        self.checkpoints: Path | None = None  # where a campaign's checkpoint goes, if not default
        self.scratch: Path | None = None  # the temporary folder of a scratch log (and its key)

    @classmethod
    def open(cls, url: str | Path | URL = DEFAULT_DB_URL, *, create: bool = False,
             key: AuditKey | str | None = None) -> AuditLog:
        """Open the log at ``url``; a missing one raises AuditLogMissingError unless ``create``.

        ``create=True`` makes a new, empty log only where there is none; it never replaces or
        completes a log that exists, even in part (a lone table means tampering).  ``key`` is
        the audit key or a reference to it (default: ``$MB_AUDIT_KEY``, else the default key
        file); it is needed to create, append and verify, not to read entries.
        """
        u = _url(url)
        shown = _show(u)
        path = sqlite_file(u)
        if path is not None:
            if not path.exists():  # connecting would create the file
                if not create:
                    raise AuditLogMissingError(f"no audit log at {shown}: the database file "
                                               "does not exist (create one explicitly)",
                                               url=shown)
                if not path.parent.is_dir():  # as --db: never make folders behind one's back
                    raise AuditLogError(f"cannot create the audit log at {shown}: the folder "
                                        f"{printable(str(path.parent))} does not exist",
                                        url=shown)
                key = _resolve_key(key, shown)  # no key: make no file either
            elif path.is_file() and path.stat().st_size == 0 and not create:
                raise AuditLogMissingError(f"no audit log at {shown}: the file is empty (its "
                                           "tables do not exist; create one explicitly)",
                                           url=shown)
            elif path.is_dir():
                raise AuditLogError(f"cannot open the audit log at {shown}: {printable(str(path))}"
                                    " is a directory, not a database file", url=shown)
            try:
                str(path).encode("utf-8")
            except UnicodeEncodeError:
                raise AuditLogError(f"cannot open the audit log at {shown}: the path is not "
                                    "valid UTF-8 (SQLite needs a UTF-8 file name)",
                                    url=shown) from None
        engine = make_engine(u)
        log = cls(engine, u, key)
        try:
            if not _check_schema(engine, shown, create):
                log._create(log.key)
        except SQLAlchemyError as exc:
            engine.dispose()
            why = getattr(exc, "orig", None) or exc
            raise AuditLogError(f"cannot open the audit log at {shown}: "
                                f"{printable(str(why)).strip().splitlines()[0]}",
                                url=shown) from None
        except MeterbenchError:
            engine.dispose()
            raise
        return log

    @property
    def key(self) -> AuditKey:
        """The audit key (resolved once); AuditLogError saying how to make one if none."""
        self._key_ref = _resolve_key(self._key_ref, self.shown_url)
        return self._key_ref

    def _create(self, key: AuditKey) -> None:
        with self._engine.begin() as conn:  # BEGIN IMMEDIATE on SQLite: creators queue
            if conn.dialect.name == "postgresql":
                # Hosts creating the log at once: one creates it, the rest find it made.
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({SCHEMA_LOCK})")
                if inspect(conn).has_table(head_table.name):
                    return
            metadata.create_all(conn)
            for ddl in APPEND_ONLY_DDL.get(self._engine.dialect.name, ()):
                conn.exec_driver_sql(ddl)
            if conn.execute(select(head_table.c.id)).first() is None:
                now = _utc_text(datetime.datetime.now(datetime.UTC))
                log_id = secrets.token_hex(16)
                conn.execute(insert(head_table).values(
                    id=1, count=0, last_hash=GENESIS_HASH, created_at=now, key_id=key.key_id,
                    log_id=log_id,
                    mac=head_mac(key, 0, GENESIS_HASH, now, key.key_id, log_id)))

    def close(self) -> None:
        """Release the database connections (idempotent)."""
        self._engine.dispose()

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _wrong_key(self, head_key_id: str) -> str:
        return (f"the audit log at {self.shown_url} is keyed with key id {head_key_id}, but "
                f"the key from {self.key.source} has id {self.key.key_id}: give the log's "
                "own key (--audit-key or MB_AUDIT_KEY)")

    def append(self, *, operator: str, role: str, action: str, outcome: Outcome | str,
               bench: str = "", device_id: str | None = None, clause: str | None = None,
               detail: Mapping[str, Any] | None = None) -> AuditEntry:
        """Write one entry, chained to the last, in one transaction with the head update.

        Refuses (AuditLogError) to extend a log whose head disagrees with its last entry or
        its own MAC, or that is keyed with another key: a destructive run must not continue
        on a log that has been tampered with.
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
        key = self.key
        try:
            with self._engine.begin() as conn:
                head = conn.execute(select(head_table).where(head_table.c.id == 1)
                                    .with_for_update()).first()
                if head is None:
                    raise AuditLogError(f"the audit log at {self.shown_url} has lost its head "
                                        "record: run `meterbench audit verify`")
                if head.key_id != key.key_id:
                    raise AuditLogError(self._wrong_key(head.key_id) + ": not appending")
                count: int = head._mapping["count"]  # `head.count` is also Row's tuple method
                last = conn.execute(select(entries_table.c.seq, entries_table.c.hash)
                                    .order_by(entries_table.c.seq.desc()).limit(1)).first()
                found = (last.seq, last.hash) if last else (0, GENESIS_HASH)
                if found != (count, head.last_hash) or head.mac != head_mac(
                        key, count, head.last_hash, head.created_at, head.key_id,
                        head.log_id):
                    raise AuditLogError(f"the audit log at {self.shown_url} does not match its "
                                        "head record (tampered or truncated): not appending; "
                                        "run `meterbench audit verify`")
                entry = AuditEntry(count + 1, datetime.datetime.now(datetime.UTC),
                                   operator, role, bench, device_id, clause, action,
                                   result.value, body, head.last_hash, "")
                entry = dataclasses.replace(entry, hash=entry.computed_hash(key))
                conn.execute(insert(entries_table).values(
                    seq=entry.seq, at=_utc_text(entry.at), operator=operator, role=role,
                    bench=bench, device_id=device_id, clause=clause, action=action,
                    outcome=result.value, detail=canonical_json(body),
                    prev_hash=entry.prev_hash, hash=entry.hash))
                conn.execute(update(head_table).where(head_table.c.id == 1).values(
                    count=entry.seq, last_hash=entry.hash,
                    mac=head_mac(key, entry.seq, entry.hash, head.created_at, head.key_id,
                                 head.log_id)))
        except DBAPIError as exc:
            raise AuditLogError(f"cannot append to the audit log at {self.shown_url}: "
                                f"{exc.orig}") from None
        return entry

    def entries(self) -> Iterator[AuditEntry]:
        """Every entry, oldest first."""
        with self._read() as conn:
            for row in conn.execute(select(entries_table).order_by(entries_table.c.seq)):
                yield _entry(row)

    def entries_page(self, offset: int, limit: int, *, operator: str | None = None
                     ) -> tuple[int, list[AuditEntry]]:
        """How many entries there are (``operator``'s only, if given) and ``limit`` of them
        from ``offset``, newest first: one screen's page, never the whole log. (0, []) where
        the database holds no audit log yet; ValueError for a negative offset or a limit
        outside 1..1000."""
        if offset < 0 or not 1 <= limit <= 1000:
            raise ValueError(f"audit page offset {offset}, limit {limit}: the offset must be "
                             "0 or more and the limit 1 to 1000")
        a = entries_table
        where = [a.c.operator == operator] if operator else []
        with self._read() as conn:
            if not conn.dialect.has_table(conn, a.name):
                return 0, []
            total = conn.execute(select(func.count()).select_from(a).where(*where)).scalar_one()
            return int(total), [_entry(r) for r in conn.execute(
                select(a).where(*where).order_by(a.c.seq.desc()).limit(limit).offset(offset))]

    def _read(self) -> ReadTx:
        """A connection whose transaction only reads (SQLite: deferred BEGIN, one snapshot)."""
        return ReadTx(self._engine)

    def verify(self) -> VerifyReport:
        """Walk the keyed chain, the head and the triggers; report every problem found.

        Raises AuditLogError when the log cannot be checked at all (no key, the wrong key,
        the database unreadable): that is not evidence of tampering.
        """
        key = self.key
        report = VerifyReport(self.shown_url, key_id=key.key_id)
        try:
            with self._read() as conn:
                _walk(conn, report, key)
                _check_head(conn, report, key, self._wrong_key)
                report.problems.extend(Problem("trigger", text)
                                       for text in trigger_problems(conn))
        except DBAPIError as exc:
            raise AuditLogError(f"the audit log at {self.shown_url} cannot be read: "
                                f"{exc.orig}") from None
        return report


def _walk(conn: Connection, report: VerifyReport, key: AuditKey) -> None:
    """Every entry: gaps, links, tags; and the ``started`` entries never closed."""
    expected, prev_hash, last_seq = 1, GENESIS_HASH, 0
    open_ops: dict[tuple[str | None, str | None], AuditEntry] = {}
    for row in conn.execute(select(entries_table).order_by(entries_table.c.seq)):
        seq = row.seq
        report.count += 1
        report.tags[seq] = row.hash
        if seq != expected:
            span = f"entry {expected}" if seq == expected + 1 else \
                f"entries {expected} to {seq - 1}"
            report.problems.append(Problem(
                "deleted", f"{span} missing: deleted from the log (gap before entry {seq})",
                expected))
        elif row.prev_hash != prev_hash:
            report.problems.append(Problem(
                "broken_link", f"entry {seq}: does not link to entry {seq - 1} (its "
                f"previous tag differs): entry {seq - 1} was replaced", seq))
        try:
            entry: AuditEntry | None = _entry(row)
            intact = entry is not None and entry.computed_hash(key) == row.hash
        except ValueError:
            entry, intact = None, False
        if not intact:
            report.problems.append(Problem(
                "edited", f"entry {seq}: content does not match its tag: edited (or written) "
                "without the audit key", seq))
        elif entry is not None:
            report.intact += 1
            _track(entry, open_ops, report)
        expected, prev_hash, last_seq = seq + 1, row.hash, seq
    report.last_hash = prev_hash if last_seq else None
    for entry in open_ops.values():
        _unclosed(entry, report)


def _track(entry: AuditEntry, open_ops: dict[tuple[str | None, str | None], AuditEntry],
           report: VerifyReport) -> None:
    """Pair each ``started`` with the next ``done``/``failed`` for its device and clause."""
    where = (entry.device_id, entry.clause)
    if entry.outcome == Outcome.STARTED:
        if where in open_ops:
            _unclosed(open_ops[where], report)
        open_ops[where] = entry
    elif entry.outcome in (Outcome.DONE, Outcome.FAILED):
        open_ops.pop(where, None)


def _unclosed(entry: AuditEntry, report: VerifyReport) -> None:
    report.warnings.append(Problem(
        "incomplete_operation", f"entry {entry.seq}: {entry.action} STARTED on device "
        f"{entry.device_id or '-'} (clause {entry.clause or '-'}) at "
        f"{entry.at.strftime('%Y-%m-%d %H:%M:%S')}Z has no DONE or FAILED after it: the "
        "operation was interrupted; check that device", entry.seq))


def _check_head(conn: Connection, report: VerifyReport, key: AuditKey,
                wrong_key: Any) -> None:
    """The head against the entries and its own MAC; the wrong key is an error, not tampering."""
    head = conn.execute(select(head_table).where(head_table.c.id == 1)).first()
    if head is None:
        report.problems.append(Problem("head", "the head record is missing: truncation "
                                               "can no longer be ruled out"))
        return
    count: int = head._mapping["count"]  # `head.count` is also Row's tuple method
    report.head_count, report.log_id = count, head.log_id
    mac_ok = head.mac == head_mac(key, count, head.last_hash, head.created_at,
                                  head.key_id, head.log_id)
    if head.key_id != key.key_id and not mac_ok and not report.intact:
        raise AuditLogError(wrong_key(head.key_id))
    last_seq = max(report.tags, default=0)
    if not mac_ok:
        report.problems.append(Problem(
            "head", "the head record was edited: its MAC does not match (count "
            f"{count}, key id {head.key_id})"))
    if count > last_seq:
        report.problems.append(Problem(
            "truncated", f"truncated: the head records {count} entries but the log "
            f"ends at entry {last_seq} ({count - last_seq} missing at the end)",
            last_seq + 1))
    elif count < last_seq:
        report.problems.append(Problem(
            "head", ("entry" if count + 1 == last_seq else
                     f"entries {count + 1} to") + f" {last_seq} not counted by the head: "
            "written around the log, or the head was rolled back", count + 1))
    elif head.last_hash != (report.last_hash or GENESIS_HASH):
        report.problems.append(Problem(
            "head", f"the head's last tag differs from entry {last_seq}'s tag: the last "
            "entry or the head was altered", last_seq or None))


def verify_log(url: str | Path | URL = DEFAULT_DB_URL, *,
               key: AuditKey | str | None = None) -> VerifyReport:
    """Verify the log at ``url`` (its checkpoints too:
    ``harness.triage.audit_checkpoint.verify_against_checkpoints``).

    A missing log is a report with ``missing``; tables lost in part are a tampered report;
    a log that cannot be checked (unusable URL, unreadable database, no key) raises
    AuditLogError.
    """
    return verify_log_and_key(url, key=key)[0]


def verify_log_and_key(url: str | Path | URL = DEFAULT_DB_URL, *,
                       key: AuditKey | str | None = None) -> tuple[VerifyReport, AuditKey | None]:
    """:func:`verify_log`, and the key the log was checked with (None when it was not opened:
    missing, or its tables lost in part), for checks layered on the log's, as checkpoints."""
    u = _url(url)
    shown = _show(u)
    try:
        log = AuditLog.open(u, key=key)
    except AuditLogMissingError as exc:
        return VerifyReport(shown, missing=True, problems=[Problem("missing", str(exc))]), None
    except AuditLogTamperedError as exc:
        return VerifyReport(shown, problems=[Problem("schema", str(exc))]), None
    with log:
        return log.verify(), log.key


def open_scratch_log(prefix: str = "meterbench-audit-", base: Path | None = None) -> AuditLog:
    """A new log with its own new key in a new temporary folder (in ``base`` if given):
    an emulated run's log, with ``checkpoints`` pointing beside it."""
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=base))
    key = create_key_file(folder / "audit.key")
    log = AuditLog.open(f"sqlite:///{folder / 'audit.db'}", create=True, key=key)
    log.checkpoints = folder / "checkpoints.jsonl"
    log.scratch = folder
    return log


def discard_scratch_log(log: AuditLog) -> None:
    """Close a scratch log and remove its temporary folder (log, key, checkpoints): what an
    emulated run made for itself goes with it. A log that is not a scratch one is only
    closed."""
    log.close()
    if log.scratch is not None:
        shutil.rmtree(log.scratch, ignore_errors=True)
        log.scratch = None
