"""``--db`` spellings people use (``postgres://``, ``postgresql://``, with a driver or not) and
passwords kept out of the URL: from a file or the environment, never printed back."""

from __future__ import annotations

from pathlib import Path

import pytest
from _postgres import SUPERUSER, PostgresServer, free_port

from harness.results.store import ResultStore, ResultStoreError
from harness.triage.audit import AuditLog, AuditLogError
from harness.triage.audit_db import hide_password, show_url, to_url


@pytest.mark.parametrize("scheme", ["postgres", "postgresql", "postgresql+psycopg",
                                    "postgres+psycopg"])
def test_every_spelling_gets_psycopg_3(scheme: str) -> None:
    u = to_url(f"{scheme}://lab:s3cret@db.example:5433/returns")
    assert u.drivername == "postgresql+psycopg"
    assert (u.host, u.port, u.database, u.password) == ("db.example", 5433, "returns", "s3cret")
    assert "s3cret" not in show_url(u)


def test_password_from_a_file_named_in_the_url(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MB_DB_PASSWORD", "from-env")
    secret = tmp_path / "db.pass"
    secret.write_text("from-file\nignored second line\n")
    u = to_url(f"postgres://lab@db/returns?password_file={secret}&sslmode=require")
    assert u.password == "from-file"
    assert dict(u.query) == {"sslmode": "require"}  # not passed on to the driver


def test_password_from_the_environment_only_when_the_url_has_none(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MB_DB_PASSWORD", "from-env")
    assert to_url("postgresql://lab@db/returns").password == "from-env"
    assert to_url("postgresql://lab:own@db/returns").password == "own"
    assert to_url("sqlite:///x.db").password is None


@pytest.mark.parametrize(("content", "words"), [(None, "cannot read the password file"),
                                                ("\n", "password file .* is empty")])
def test_a_bad_password_file_is_named(tmp_path: Path, content: str | None, words: str) -> None:
    secret = tmp_path / "db.pass"
    if content is not None:
        secret.write_text(content)
    with pytest.raises(ResultStoreError, match=words):
        ResultStore.open(f"postgres://lab@db/returns?password_file={secret}")


def test_errors_never_print_the_password() -> None:
    port = free_port()  # nothing listens there: the connection is refused at once
    url = f"postgres://lab:TopSecret42@127.0.0.1:{port}/returns"
    with pytest.raises(ResultStoreError) as store_error:
        ResultStore.open(url)
    with pytest.raises(AuditLogError) as audit_error:
        AuditLog.open(url, create=True, key="b" * 64)
    for exc in (store_error.value, audit_error.value):
        assert "TopSecret42" not in str(exc)
        assert f"lab:***@127.0.0.1:{port}" in str(exc)
    assert "TopSecret42" not in str(to_url(url))


def test_hide_password_in_text() -> None:
    assert hide_password("postgres://lab:pw@h/db") == "postgres://lab:***@h/db"
    assert hide_password("postgresql://h/db?x=1") == "postgresql://h/db?x=1"
    assert hide_password("sqlite:////tmp/a:b@c.db") == "sqlite:////tmp/a:b@c.db"


def test_a_real_server_through_postgres_scheme_and_password_file(
        postgres_server: PostgresServer, tmp_path: Path) -> None:
    postgres_server.create_database("mb_spelling")
    secret = tmp_path / "db.pass"
    secret.write_text("any\n")  # the test server trusts local connections
    url = (f"postgres://{SUPERUSER}@127.0.0.1:{postgres_server.port}/mb_spelling"
           f"?password_file={secret}")
    with ResultStore.open(url) as store:
        assert store.count() == 0
        assert store.shown_url.startswith("postgresql+psycopg://meterbench:***@")
