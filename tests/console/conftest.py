"""A console on a scratch store and audit log, with three accounts the site file grants
supplier (ann), rsa (bob) and no role (cat), for the console's tests."""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.console.accounts import LockOut, add_account, load_accounts
from harness.console.app import Settings
from harness.triage.access import read_site_access
from harness.triage.audit import AuditLog
from harness.triage.audit_key import create_key_file
from harness.triage.site import Site
from tests.results._postgres import PostgresServer, session_server

PASSWORDS = {"ann": "ann-secret-1", "bob": "bob-secret-2", "cat": "cat-secret-3"}
SITE = """site: Test returns line
users:
  ann: [supplier]
  bob: [rsa]
"""
_names = itertools.count(1)
CSRF = re.compile(r'name="csrf" (?:value|content)="([^"]+)"')


@dataclass
class Kit:
    """Where a test console keeps its files."""

    folder: Path
    db: str

    def settings(self, benches: list[Path] | None = None, base_url: str = "",
                 lockout: LockOut | None = None, time_scale: float | None = None) -> Settings:
        """Settings for a console over this kit's files."""
        spec, parsed = read_site_access(self.folder / "site.yaml")
        site = Site(source=str(self.folder / "site.yaml"), spec=spec, users=dict(parsed.users),
                    name=parsed.site, directory=parsed.directory)
        return Settings(db=self.db, audit_db=self.db,
                        accounts=load_accounts(self.folder / "accounts.yaml", check_owner=False),
                        site=site, bench_files=benches or [], base_url=base_url,
                        lockout=lockout or LockOut(), time_scale=time_scale)

    def audit(self) -> list[tuple[str, str, str, str]]:
        """The audit log's entries as (operator, role, action, outcome)."""
        with AuditLog.open(self.db) as log:
            return [(e.operator, e.role, e.action, e.outcome) for e in log.entries()]


@pytest.fixture(scope="session")
def _accounts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The accounts file, hashed once per session (scrypt is meant to be slow)."""
    path = tmp_path_factory.mktemp("accounts") / "accounts.yaml"
    for name, password in PASSWORDS.items():
        add_account(path, name, password)
    return path


@pytest.fixture
def kit(tmp_path: Path, _accounts: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Kit]:
    """A fresh store and audit log (its key in ``MB_AUDIT_KEY``), the accounts and site."""
    create_key_file(tmp_path / "audit.key")
    monkeypatch.setenv("MB_AUDIT_KEY", str(tmp_path / "audit.key"))
    db = f"sqlite:///{tmp_path}/meterbench.db"
    AuditLog.open(db, create=True).close()
    (tmp_path / "accounts.yaml").write_bytes(_accounts.read_bytes())
    (tmp_path / "site.yaml").write_text(SITE, encoding="utf-8")
    yield Kit(tmp_path, db)


def csrf_of(html: str) -> str:
    """The CSRF token a page carries."""
    found = CSRF.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A throw-away PostgreSQL server for the console's facility tests (as the results
    tests': skipped where PostgreSQL is not installed, unless MB_REQUIRE_POSTGRES=1)."""
    yield from session_server()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """A new, empty database on the session's server."""
    return postgres_server.create_database(f"mb_console_{os.getpid()}_{next(_names)}")
