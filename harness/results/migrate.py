"""Schema migrations of the results store (Alembic, shipped in ``harness.results.migrations``).

A store opened for writing is brought to the newest schema in place, in one transaction that
PostgreSQL hosts take turns at (an advisory lock) and SQLite writers queue for (``BEGIN
IMMEDIATE``): hosts starting at once never fail or apply a change twice. A database made
before migrations (no version table) is taken over: each migration creates or adds only what
is absent. Any write open (``ResultStore.open``, ``meterbench triage --db``) applies them.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text

from harness.triage.audit_db import SCHEMA_LOCK

if TYPE_CHECKING:
    from alembic.config import Config

VERSION_TABLE = "meterbench_results_version"
"""Where Alembic records the store's revision (not ``alembic_version``: a lab's own database
may hold another application's migrations)."""
MIGRATIONS = Path(__file__).with_name("migrations")
"""The folder of ``env.py`` and ``versions/``."""


def _config(connection: Connection | None = None) -> Config:
    """Alembic's configuration: the shipped scripts, run on ``connection`` when given."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@cache
def head() -> str:
    """The newest revision shipped."""
    from alembic.script import ScriptDirectory

    found = ScriptDirectory.from_config(_config()).get_current_head()
    assert found is not None  # the package ships at least one revision
    return found


def current(conn: Connection) -> str | None:
    """The revision a database is at (None: made before migrations, or empty)."""
    if not inspect(conn).has_table(VERSION_TABLE):
        return None
    return conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()


def complete(conn: Connection, expected: Mapping[str, set[str]]) -> bool:
    """Whether every expected table has every expected column (a version table saying head
    over a table or column dropped by hand is not trusted)."""
    inspector = inspect(conn)
    names = set(inspector.get_table_names())
    return all(table in names and columns <= {c["name"] for c in inspector.get_columns(table)}
               for table, columns in expected.items())


def upgrade(engine: Engine, expected: Mapping[str, set[str]] | None = None) -> bool:
    """Bring the database to :func:`head` (True when something was applied). Safe to call
    from several processes at once. With ``expected`` (table -> columns), a database at head
    that lacks some of them has its migrations run again (each adds only what is absent)."""
    wanted = expected or {}
    with engine.connect().execution_options(audit_read_only=True) as probe:
        if current(probe) == head() and complete(probe, wanted):
            return False
    from alembic import command

    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({SCHEMA_LOCK})")
        at = current(conn)
        if at == head() and complete(conn, wanted):  # another host did it meanwhile
            return False
        if at is not None and not complete(conn, wanted):  # redo from the start
            conn.execute(text(f"DELETE FROM {VERSION_TABLE}"))
        command.upgrade(_config(conn), "head")
    return True
