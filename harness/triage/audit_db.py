"""Where the audit log lives: its two tables, and engines that keep one writer at a time.

SQLite (the default) runs in WAL mode so a reader never blocks the writer, and every write
transaction starts with ``BEGIN IMMEDIATE`` so writers in several processes queue for the
lock instead of reading the same head and forking the chain.  Triggers make the entries table
append-only at the database level too, on SQLite and PostgreSQL (a first line only: the keyed
chain is the proof); :func:`trigger_problems` tells ``verify`` when they were dropped, replaced
or disabled.
"""

from __future__ import annotations

import os
import re
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
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

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
"""One row per entry; ``seq`` counts from 1 with no gaps, ``detail`` is canonical JSON;
``hash`` is the entry's HMAC-SHA256 tag, ``prev_hash`` the previous entry's."""
head_table = Table(
    "audit_head", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("count", Integer, nullable=False),
    Column("last_hash", String(64), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("key_id", String(16), nullable=False),
    Column("log_id", String(32), nullable=False),
    Column("mac", String(64), nullable=False),
    CheckConstraint("id = 1", name="audit_head_single_row"),
)
"""One row (id 1): how many entries the log has, the tag of the last, which key and which log
(a random id, for checkpoints), and a MAC over all of it."""
SQLITE_APPEND_ONLY = (
    "CREATE TRIGGER IF NOT EXISTS audit_entries_no_update BEFORE UPDATE ON audit_entries "
    "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_entries_no_delete BEFORE DELETE ON audit_entries "
    "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
)
POSTGRESQL_APPEND_ONLY = (
    "CREATE OR REPLACE FUNCTION audit_entries_append_only() RETURNS trigger "
    "LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$",
    "CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries "
    "FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only()",
    "CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries "
    "FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only()",
    "CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON audit_entries "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_entries_append_only()",
)
"""PostgreSQL's equivalent (PostgreSQL 11+), which also refuses TRUNCATE."""
APPEND_ONLY_DDL = {"sqlite": SQLITE_APPEND_ONLY, "postgresql": POSTGRESQL_APPEND_ONLY}
"""The append-only triggers per SQLAlchemy dialect name (none for other databases)."""
SCHEMA_LOCK = 0x6D62_7273  # "mbrs"
"""PostgreSQL advisory lock key held (per transaction) while creating or migrating tables:
the results store and the audit log take it, so hosts starting at once take turns."""
DEFAULT_DRIVERS = {"postgresql": "psycopg"}
"""The driver a URL without one gets: SQLAlchemy would pick psycopg2, meterbench ships psycopg 3."""
DRIVER_PACKAGES = {"psycopg": "meterbench[postgres]"}
"""What to install when a driver is missing."""


def _norm(sql: str) -> str:
    return " ".join(sql.replace("IF NOT EXISTS ", "").split()).lower()


_PG_TRIGGERS = {"audit_entries_no_update": "before update", "audit_entries_no_delete":
                "before delete", "audit_entries_no_truncate": "before truncate"}


def trigger_problems(conn: Connection) -> list[str]:
    """What is wrong with the append-only triggers: each one missing, altered or disabled."""
    dialect = conn.dialect.name
    found: list[str] = []
    if dialect == "sqlite":
        definitions: dict[str, str | None] = dict(conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
            "AND tbl_name = 'audit_entries'").all())
        for ddl in SQLITE_APPEND_ONLY:
            name = ddl.split()[5]
            if name not in definitions:
                found.append(f"trigger {name} is missing (dropped)")
            elif _norm(definitions[name] or "") != _norm(ddl):
                found.append(f"trigger {name} was replaced by another definition")
    elif dialect == "postgresql":
        rows = {r[0]: r[1:] for r in conn.exec_driver_sql(
            "SELECT t.tgname, t.tgenabled, pg_get_triggerdef(t.oid), p.prosrc "
            "FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid "
            "WHERE t.tgrelid = 'audit_entries'::regclass AND NOT t.tgisinternal").all()}
        for name, event in _PG_TRIGGERS.items():
            if name not in rows:
                found.append(f"trigger {name} is missing (dropped)")
                continue
            enabled, definition, source = rows[name]
            if event not in definition.lower() or \
                    "raise exception 'the audit log is append-only'" not in source.lower():
                found.append(f"trigger {name} was replaced by another definition")
            elif enabled == "D":
                found.append(f"trigger {name} is disabled")
    return found


BACKEND_ALIASES = {"postgres": "postgresql"}
"""Spellings people use for a backend (Heroku, libpq tools) and what SQLAlchemy calls it."""
DRIVER_PREFERENCE = {"postgresql": ("psycopg", "psycopg2")}
"""The drivers tried, in order, for a URL that names none: the first one installed is used."""
PASSWORD_ENV = "MB_DB_PASSWORD"
"""The environment variable a database password comes from when the URL has none."""
PASSWORD_FILE_PARAM = "password_file"
"""The URL query parameter naming a file whose first line is the password (libpq's own
``PGPASSFILE`` / ``~/.pgpass`` work too: psycopg reads them when no password is given)."""


def to_url(url: str | Path | URL) -> URL:
    """A SQLAlchemy URL whose driver is installed; a bare path (no ``://``) is a SQLite file.

    ``postgres://`` and ``postgresql://`` (no driver named) get the first installed of
    psycopg 3 (what the ``postgres`` extra installs) and psycopg2; a missing driver is a
    ValueError with what to install. A password can stay out of the URL: ``?password_file=PATH``
    (its first line) or ``$MB_DB_PASSWORD`` fill it in, and messages never print it.
    """
    if isinstance(url, Path) or (isinstance(url, str) and "://" not in url):
        return URL.create("sqlite", database=str(Path(url).expanduser().resolve()))
    if isinstance(url, URL):
        u = url
    else:
        try:
            u = make_url(url)
        except ArgumentError as exc:
            raise ValueError(f"not a database URL: {_hide(url)!r} ({exc})") from None
    backend, _, driver = u.drivername.partition("+")
    backend = BACKEND_ALIASES.get(backend, backend)
    if not driver and backend in DRIVER_PREFERENCE:
        driver = _installed_driver(backend)
    u = u.set(drivername=f"{backend}+{driver}" if driver else backend)
    u = _with_password(u)
    _check_driver(u)
    return u


def _installed_driver(backend: str) -> str:
    """The first of the backend's preferred drivers that imports (else the first: its
    absence is then reported with what to install)."""
    import importlib.util

    for name in DRIVER_PREFERENCE[backend]:
        if importlib.util.find_spec(name) is not None:
            return name
    return DRIVER_PREFERENCE[backend][0]


def _with_password(u: URL) -> URL:
    """The URL with its password from ``password_file`` or ``$MB_DB_PASSWORD`` (the URL's own
    password wins over the environment; a file named in the URL wins over both)."""
    if u.get_backend_name() == "sqlite":
        return u
    shown = show_url(u)
    if PASSWORD_FILE_PARAM in u.query:
        value = u.query[PASSWORD_FILE_PARAM]
        where = Path(value if isinstance(value, str) else value[-1]).expanduser()
        try:
            lines = where.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"{shown}: cannot read the password file {where}: "
                             f"{getattr(exc, 'strerror', None) or exc}") from None
        if not lines or not lines[0].strip():
            raise ValueError(f"{shown}: the password file {where} is empty")
        return u.difference_update_query([PASSWORD_FILE_PARAM]).set(password=lines[0].strip())
    env = os.environ.get(PASSWORD_ENV)
    if u.password is None and env:
        return u.set(password=env)
    return u


def hide_password(text: str) -> str:
    """A database URL as text, its password (if any) replaced by ***: what a message, a log
    line or a command printed back to the operator shows of a ``--db`` value."""
    return re.sub(r"(://[^:/@?#]*:)[^@/]*@", r"\1***@", text)


_hide = hide_password


def show_url(url: URL) -> str:
    """The URL as messages print it: password hidden, path bytes that are not UTF-8 (a
    file name from the command line) as ``\\xNN`` instead of an encoding error."""
    try:
        return url.render_as_string(hide_password=True)
    except UnicodeEncodeError:
        database = (url.database or "").encode("utf-8", "surrogateescape")
        return f"{url.drivername}:///{database.decode('utf-8', 'backslashreplace')}"


def _check_driver(url: URL) -> None:
    """ValueError naming the URL and the package to install when its driver is missing."""
    shown = show_url(url)
    try:
        dialect = url.get_dialect()
    except NoSuchModuleError:
        raise ValueError(f"unknown database in {shown}: SQLAlchemy has no dialect "
                         f"{url.drivername!r}") from None
    try:
        dialect.import_dbapi()
    except ImportError as exc:
        driver = url.get_driver_name()
        package = DRIVER_PACKAGES.get(driver, driver)
        raise ValueError(f"cannot use {shown}: its driver {driver!r} is not installed "
                         f"({exc}); install it with: pip install '{package}'") from None


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
    """An engine for ``url``: SQLite with WAL and BEGIN IMMEDIATE; PostgreSQL giving up on an
    unreachable server after 10 s instead of the system's TCP timeout."""
    if url.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _on_connect)
        event.listen(engine, "begin", _on_begin)
        return engine
    if url.get_backend_name() == "postgresql" and "connect_timeout" not in url.query:
        return create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": 10})
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
        return show_url(self.url)
