"""The results store: a device's result committed at once, never twice, and resumable.

Tests taking ``store`` or ``db_url`` run on SQLite and on a real PostgreSQL server (conftest).
"""

from __future__ import annotations

import datetime
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from _results_sample import T0, sample
from sqlalchemy import create_engine, text

from harness.results.store import ResultStore, ResultStoreMissingError

WRITER = Path(__file__).with_name("_results_sample.py")


def _url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'results.db'}"


@pytest.fixture
def store(db_url: str):
    with ResultStore.open(db_url) as s:
        yield s


def test_record_round_trip(store: ResultStore) -> None:
    cid = store.start_campaign(bench="b1", operator="ann", role="Supplier", batch_name="b.csv")
    record, verdict = sample(1)
    assert store.record(cid, record, verdict, T0 + datetime.timedelta(seconds=42))
    [row] = store.results()
    assert (row.item_key, row.device_type, row.device_id, row.model) == \
        ("item1", "ESME", "0000000000000001", "M-ESME")
    assert (row.verdict, row.category, row.duis_return_reason, row.reset) == \
        ("FAULT", "HAN", "fault with SM HAN interface", False)
    assert (row.bench, row.operator, row.role, row.duration_s) == ("b1", "ann", "Supplier", 42.0)
    current, firmware = row.measurements
    assert (current.numeric_value, current.unit, current.low, current.high, current.passed) == \
        (pytest.approx(0.051), "A", 0.0, 0.2, True)
    assert (firmware.value, firmware.expected, firmware.numeric_value) == ("1.0", "'1.0'", None)
    assert row.evidence["findings"][0]["category"] == "HAN"
    assert row.evidence["verdict"]["verdict"] == "FAULT"


def test_same_item_twice_is_ignored(store: ResultStore) -> None:
    cid = store.start_campaign(bench="b1", operator="ann", role="Supplier", batch_name="b.csv")
    record, verdict = sample(0)
    assert store.record(cid, record, verdict) is True
    other = sample(1)[1]  # a different verdict for the same item: the first one stands
    assert store.record(cid, record, other) is False
    [row] = store.results()
    assert row.verdict == "NO_FAULT_FOUND" and len(row.measurements) == 2
    assert store.done_items(cid) == {"item0"}
    cid2 = store.start_campaign(bench="b1", operator="ann", role="Supplier", batch_name="c.csv")
    assert store.record(cid2, record, verdict) is True  # another campaign may hold it
    assert store.count() == 2 and store.count(cid) == 1


def test_find_resume_and_finish_campaign(store: ResultStore) -> None:
    assert store.find_campaign("b1", "b.csv") is None
    cid = store.resume_or_start(bench="b1", operator="ann", role="Supplier", batch_name="b.csv")
    assert store.find_campaign("b1", "b.csv") == cid
    assert store.find_campaign("b2", "b.csv") is None
    assert store.resume_or_start(bench="b1", operator="bob", role="Supplier",
                                 batch_name="b.csv") == cid
    store.finish_campaign(cid)
    assert store.find_campaign("b1", "b.csv") is None
    assert store.resume_or_start(bench="b1", operator="ann", role="Supplier",
                                 batch_name="b.csv") != cid


def test_period_filter_by_finished_day(store: ResultStore) -> None:
    cid = store.start_campaign(bench="b1", operator="ann", role="Supplier", batch_name="b.csv")
    for i, day in enumerate((1, 2, 3)):
        record, verdict = sample(i)
        store.record(cid, record, verdict, datetime.datetime(2024, 3, day, 23, 59,
                                                             tzinfo=datetime.UTC))
    march = datetime.date(2024, 3, 1)
    assert [r.item_key for r in store.results(since=march.replace(day=2))] == ["item1", "item2"]
    assert [r.item_key for r in store.results(until=march.replace(day=2))] == ["item0", "item1"]
    assert [r.item_key for r in store.results(since=march.replace(day=2),
                                              until=march.replace(day=2))] == ["item1"]


def test_open_without_create_never_makes_a_database(tmp_path: Path) -> None:
    with pytest.raises(ResultStoreMissingError):
        ResultStore.open(_url(tmp_path), create=False)
    assert not (tmp_path / "results.db").exists()
    create_engine(_url(tmp_path)).connect().close()  # a file with no results tables
    with pytest.raises(ResultStoreMissingError, match="tables"):
        ResultStore.open(_url(tmp_path), create=False)


def test_sqlite_store_uses_wal(tmp_path: Path) -> None:
    with ResultStore.open(_url(tmp_path)) as store:
        store.start_campaign(bench="b1", operator="ann", role="Supplier", batch_name="b.csv")
    with create_engine(_url(tmp_path)).connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"


def test_killed_campaign_resumes_with_every_device_exactly_once(db_url: str) -> None:
    """kill -9 midway, run again: exactly N devices recorded, each once."""
    n, url = 120, db_url
    args = [sys.executable, str(WRITER), url, str(n), "bench1", "batch.csv"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    for seen, _line in enumerate(proc.stdout, 1):
        if seen == 30:
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    with ResultStore.open(url, create=False) as store:
        cid = store.find_campaign("bench1", "batch.csv")
        assert cid is not None
        partial = store.done_items(cid)
        assert 30 <= len(partial) < n  # every device it printed is there, the rest is not
    second = subprocess.run(args, capture_output=True, text=True, timeout=120, check=True)
    resumed = second.stdout.split()
    assert set(resumed).isdisjoint(partial)
    with ResultStore.open(url, create=False) as store:
        rows = store.results()
        assert len(rows) == n
        assert sorted(r.item_key for r in rows) == sorted(f"item{i}" for i in range(n))
        assert {r.campaign_id for r in rows} == {cid}
        assert all(len(r.measurements) == 2 for r in rows)
        assert store.find_campaign("bench1", "batch.csv") is None  # finished


def test_shares_a_file_with_the_audit_log(db_url: str) -> None:
    from harness.triage.audit import AuditLog

    url = db_url
    with AuditLog.open(url, create=True) as log:
        log.append(operator="ann", role="Supplier", action="TRI-RST-01", outcome="done",
                   bench="b1")
    with ResultStore.open(url) as store:
        cid = store.start_campaign(bench="b1", operator="ann", role="Supplier", batch_name="x")
        store.record(cid, *sample(0))
    with AuditLog.open(url) as log:
        assert log.verify().ok
    with ResultStore.open(url, create=False) as store:
        assert store.count() == 1
