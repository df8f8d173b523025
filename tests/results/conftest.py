"""Database fixtures for the results tests: a real PostgreSQL server, and both backends.

``postgres_server`` starts one throw-away server per test session (see ``_postgres``) and
skips when PostgreSQL is not installed, unless ``MB_REQUIRE_POSTGRES=1`` (CI sets it once it
has installed PostgreSQL) makes that a failure. ``db_url`` runs a test on SQLite and on
PostgreSQL, each test with a fresh database.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from _postgres import PostgresServer, session_server

_names = itertools.count(1)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A running PostgreSQL server for the session, stopped (and its data deleted) at the end."""
    yield from session_server()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """The URL of a new, empty database on the session's server (one per test)."""
    return postgres_server.create_database(f"mb_test_{os.getpid()}_{next(_names)}")


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh results database URL: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'results.db'}"
    return request.getfixturevalue("postgres_url")
