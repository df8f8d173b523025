"""Where the audit log lives: its two tables, and engines that keep one writer at a time.

SQLite (the default) runs in WAL mode so a reader never blocks the writer, and every write
transaction starts with ``BEGIN IMMEDIATE`` so writers in several processes queue for the
lock instead of reading the same head and forking the chain.  Triggers make the entries table
append-only at the database level too (a first line only: the hash chain is the proof).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Column,
    Connection,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

metadata = MetaData()
entries_table = Table(
    "audit_entries", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("at", String(32), nullable=False),
    Column("operator", String(200), nullable=False),
    Column("role", String(40), nullable=False),
    Column("bench", String(200), nullable=False),
    Column("device_id", String(64)),
    Column("clause", String(40)),
    Column("action", String(80), nullable=False),
    Column("outcome", String(20), nullable=False),
    Column("detail", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False, unique=True),
)
"""One row per entry; ``seq`` counts from 1 with no gaps, ``detail`` is canonical JSON."""
head_table = Table(
    "audit_head", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("count", Integer, nullable=False),
    Column("last_hash", String(64), nullable=False),
    Column("created_at", String(32), nullable=False),
    CheckConstraint("id = 1", name="audit_head_single_row"),
)
"""One row (id 1): how many entries the log has and the hash of the last, for truncation."""
SQLITE_APPEND_ONLY = (
    "CREATE TRIGGER IF NOT EXISTS audit_entries_no_update BEFORE UPDATE ON audit_entries "
    "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_entries_no_delete BEFORE DELETE ON audit_entries "
    "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
)


def to_url(url: str | Path | URL) -> URL:
    """A SQLAlchemy URL; a bare path (no ``://``) means a SQLite file."""
    if isinstance(url, URL):
        return url
    if isinstance(url, Path) or "://" not in url:
        return URL.create("sqlite", database=str(Path(url).expanduser().resolve()))
    try:
        return make_url(url)
    except ArgumentError as exc:
        raise ValueError(f"not a database URL: {url!r} ({exc})") from None


def sqlite_file(url: URL) -> Path | None:
    """The file behind a SQLite URL (None for an in-memory database or another backend)."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def _on_connect(dbapi_conn: Any, _record: Any) -> None:
    """SQLite: we issue BEGIN ourselves; WAL lets readers run beside a writer."""
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _on_begin(conn: Connection) -> None:
    """SQLite: a writer takes the write lock at BEGIN, so two appenders queue, never fork."""
    read_only = conn.get_execution_options().get("audit_read_only", False)
    conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def make_engine(url: URL) -> Engine:
    if url.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _on_connect)
        event.listen(engine, "begin", _on_begin)
        return engine
    return create_engine(url, pool_pre_ping=True)


class ReadTx:
    """Context manager: a connection inside a read-only transaction, rolled back at the end."""

    def __init__(self, engine: Engine) -> None:
        self._conn = engine.connect().execution_options(audit_read_only=True)

    def __enter__(self) -> Connection:
        self._tx = self._conn.begin()
        return self._conn

    def __exit__(self, *_exc: object) -> None:
        try:
            self._tx.rollback()
        finally:
            self._conn.close()


class EngineHolder:
    """A database opened through SQLAlchemy: its engine and URL (the audit log and the
    results store both are one)."""

    def __init__(self, engine: Engine, url: URL) -> None:
        self._engine = engine
        self.url = url

    @property
    def shown_url(self) -> str:
        """The URL as messages print it (password hidden)."""
        return self.url.render_as_string(hide_password=True)
