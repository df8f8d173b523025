"""The results store's schema as Alembic migrations: a new store is made by them, an older
database (made before migrations, before later columns and tables) is upgraded in place on a
write open and still read as it is on a read-only one, and hosts starting at once on
PostgreSQL (results store and audit log) never fail or duplicate anything."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from _results_sample import sample
from sqlalchemy import create_engine, inspect, text

from harness.results.migrate import VERSION_TABLE, head
from harness.results.store import ResultStore, metadata
from harness.triage.audit_db import to_url

LATER = ("return_date", "generation", "bench_kind", "mpxn")


def _schema(url: str) -> dict[str, set[str]]:
    engine = create_engine(to_url(url))
    try:
        inspector = inspect(engine)
        return {t: {c["name"] for c in inspector.get_columns(t)}
                for t in inspector.get_table_names()}
    finally:
        engine.dispose()


def _indexes(url: str) -> dict[str, list[str]]:
    """The device_result table's indexes: name -> columns."""
    engine = create_engine(to_url(url))
    try:
        return {str(i["name"]): [str(c) for c in i["column_names"]]
                for i in inspect(engine).get_indexes("device_result")}
    finally:
        engine.dispose()


def _sql(url: str, *statements: str) -> list[list[tuple]]:
    engine = create_engine(to_url(url))
    try:
        with engine.begin() as conn:
            done = [conn.execute(text(s)) for s in statements]
            return [list(r) if r.returns_rows else [] for r in done]
    finally:
        engine.dispose()


def test_a_new_store_is_made_by_the_migrations(db_url: str) -> None:
    with ResultStore.open(db_url):
        pass
    schema = _schema(db_url)
    for table in metadata.sorted_tables:
        assert {c.name for c in table.columns} <= schema[table.name], table.name
    assert {"claim", "bench_holder"} <= set(schema)
    assert _sql(db_url, f"SELECT version_num FROM {VERSION_TABLE}") == [[(head(),)]]


def _make_it_older(url: str) -> None:
    """What a database made before migrations looks like: no version table, no later
    columns, no current_trace nor facility tables."""
    _sql(url, f"DROP TABLE {VERSION_TABLE}", "DROP TABLE claim", "DROP TABLE bench_holder",
         "DROP TABLE current_trace", "DROP INDEX campaign_name_unique",
         "DROP INDEX device_result_search",
         "ALTER TABLE campaign DROP COLUMN name",
         *(f"ALTER TABLE device_result DROP COLUMN {c}" for c in LATER))


def test_an_older_database_is_read_as_it_is_and_upgraded_on_a_write_open(db_url: str) -> None:
    with ResultStore.open(db_url) as store:
        campaign = store.start_campaign(bench="b1", operator="ann", role="supplier",
                                        batch_name="old.csv")
        store.record(campaign, *sample(1))
    _make_it_older(db_url)
    with ResultStore.open(db_url, create=False) as store:  # read-only: as it is
        assert [c.batch_name for c in store.campaigns()] == ["old.csv"]
        assert [r.item_key for r in store.results()] == ["item1"]
    assert "bench_kind" not in _schema(db_url)["device_result"]
    with ResultStore.open(db_url) as store:  # a write open migrates in place
        store.record(campaign, *sample(2), bench_kind="emulated")
        assert [r.bench_kind for r in store.results()] == [None, "emulated"]
    schema = _schema(db_url)
    assert set(LATER) <= schema["device_result"] and "name" in schema["campaign"]
    assert {"current_trace", "claim", "bench_holder"} <= set(schema)
    assert _sql(db_url, f"SELECT version_num FROM {VERSION_TABLE}") == [[(head(),)]]
    assert _indexes(db_url)["device_result_search"] == ["mpxn", "label_id", "device_id",
                                                        "item_key"]  # r0006


OPENER = """
import sys, time
from harness.results.store import ResultStore
from harness.triage.audit import AuditLog
url, at = sys.argv[1], float(sys.argv[2])
time.sleep(max(0.0, at - time.time()))
AuditLog.open(url, create=True).close()
ResultStore.open(url, create=True).close()
print("ok")
"""


def test_hosts_starting_at_once_never_fail_or_duplicate(postgres_url: str) -> None:
    at = time.time() + 4.0  # every process imported and waiting by then
    procs = [subprocess.Popen([sys.executable, "-c", OPENER, postgres_url, str(at)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(5)]
    outcomes = [p.communicate(timeout=60) for p in procs]
    assert [(p.returncode, out.strip()) for p, (out, _) in zip(procs, outcomes, strict=True)] \
        == [(0, "ok")] * 5, [err[-600:] for _, err in outcomes]
    counts = _sql(postgres_url, "SELECT count(*) FROM audit_head",
                  f"SELECT count(*) FROM {VERSION_TABLE}",
                  "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'audit_entries'::regclass "
                  "AND NOT tgisinternal")
    assert counts == [[(1,)], [(1,)], [(3,)]]


@pytest.mark.parametrize("rerun", [1, 2])
def test_opening_an_upgraded_store_again_changes_nothing(db_url: str, rerun: int) -> None:
    for _ in range(rerun + 1):
        with ResultStore.open(db_url):
            pass
    assert _sql(db_url, f"SELECT count(*) FROM {VERSION_TABLE}") == [[(1,)]]
