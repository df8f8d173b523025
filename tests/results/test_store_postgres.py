"""The results store on a real PostgreSQL server: URLs, concurrent starters and recorders,
and ``meterbench report --db postgresql://...`` (the SQLite-and-PostgreSQL tests are in
test_result_store.py and test_report.py)."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest
from _results_sample import T0, sample
from typer.testing import CliRunner

from harness.cli import app
from harness.results.store import ResultStore, ResultStoreError, ResultStoreMissingError
from harness.triage.current_trace import CurrentTrace

T = TypeVar("T")
runner = CliRunner()


def _at_once(n: int, work: Callable[[int], T]) -> list[T]:
    """Run ``work(i)`` in ``n`` threads released together; their results (errors re-raised)."""
    barrier = threading.Barrier(n)
    results: list[T | BaseException | None] = [None] * n

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = work(i)
        except BaseException as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    for r in results:
        if isinstance(r, BaseException):
            raise r
    return results  # type: ignore[return-value]


def test_plain_postgresql_url_uses_psycopg(postgres_url: str) -> None:
    plain = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    with ResultStore.open(plain) as store:
        assert store.url.drivername == "postgresql+psycopg"
        cid = store.start_campaign(bench="b1", operator="ann", role="Supplier", batch_name="x")
        assert store.record(cid, *sample(0))
    with ResultStore.open(postgres_url, create=False) as store:
        assert [r.item_key for r in store.results()] == ["item0"]


def test_missing_driver_names_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if the extra were not installed
    with pytest.raises(ResultStoreError, match=r"driver 'psycopg' is not installed.*"
                                               r"pip install 'meterbench\[postgres\]'"):
        ResultStore.open("postgresql://ann:secret@db.example/results")
    with pytest.raises(ResultStoreError) as caught:
        ResultStore.open("postgresql://ann:secret@db.example/results")
    assert "secret" not in str(caught.value)


def test_unreachable_server_is_one_clear_line(tmp_path: Path) -> None:
    from _postgres import free_port

    pytest.importorskip("psycopg", reason="the postgres extra (psycopg) is not installed")
    url = f"postgresql+psycopg://ann:secret@127.0.0.1:{free_port()}/results"
    result = runner.invoke(app, ["report", "--db", url, "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    [line] = result.output.strip().splitlines()
    assert line.startswith("error: --db: cannot open the results database at "
                           "postgresql+psycopg://")
    assert "secret" not in line and not (tmp_path / "o").exists()


def test_empty_database_has_no_results_and_gets_none(postgres_url: str) -> None:
    with pytest.raises(ResultStoreMissingError, match="results tables do not exist"):
        ResultStore.open(postgres_url, create=False)
    with pytest.raises(ResultStoreMissingError):  # and still none: a reader creates nothing
        ResultStore.open(postgres_url, create=False)


def test_hosts_opening_a_new_database_at_once_all_succeed(postgres_url: str) -> None:
    """Several bench hosts start on an empty database together: one creates the tables."""
    stores = _at_once(6, lambda _i: ResultStore.open(postgres_url))
    for s in stores:
        s.close()
    with ResultStore.open(postgres_url, create=False) as store:
        assert store.count() == 0


def test_concurrent_starters_share_one_campaign(postgres_url: str) -> None:
    """Eight benches' workers start the same batch at once: one campaign, not eight."""
    ResultStore.open(postgres_url).close()
    stores = [ResultStore.open(postgres_url) for _ in range(8)]
    try:
        ids = _at_once(8, lambda i: stores[i].resume_or_start(
            bench="b1", operator=f"op{i}", role="Supplier", batch_name="batch.csv"))
    finally:
        for s in stores:
            s.close()
    assert len(set(ids)) == 1


def test_concurrent_recorders_of_one_device_write_it_once(postgres_url: str) -> None:
    with ResultStore.open(postgres_url) as store:
        cid = store.start_campaign(bench="b1", operator="ann", role="Supplier", batch_name="x")
    stores = [ResultStore.open(postgres_url) for _ in range(4)]
    try:
        written = _at_once(4, lambda i: stores[i].record(cid, *sample(0)))
    finally:
        for s in stores:
            s.close()
    assert sorted(written) == [False, False, False, True]
    with ResultStore.open(postgres_url, create=False) as store:
        [row] = store.results()
        assert len(row.measurements) == 2
        assert store.done_items(cid) == {"item0"}


def test_meterbench_report_on_postgresql(postgres_url: str, tmp_path: Path) -> None:
    """The ``meterbench`` command itself: HTML, CSV and a device page with its trace chart."""
    with ResultStore.open(postgres_url) as store:
        cid = store.resume_or_start(bench="b1", operator="ann", role="Supplier",
                                    batch_name="b.csv")
        for i in range(3):
            record, verdict = sample(i, started=T0)
            if i == 1:
                record.current_trace = CurrentTrace(((0.0, 0.0), (0.1, 0.2), (0.7, 0.01)),
                                                    "TRI-PWR-01", 0.5)
            store.record(cid, record, verdict)
        store.finish_campaign(cid)
    out = tmp_path / "report"
    result = runner.invoke(app, ["report", "--db", postgres_url, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "3 device(s) (1 NO_FAULT_FOUND, 1 FAULT, 1 INCONCLUSIVE)" in result.output
    assert "RFI figures" in (out / "index.html").read_text()
    assert len((out / "results.csv").read_text().splitlines()) == 4
    pages = {p.name: p.read_text() for p in (out / "devices").glob("*.html")}
    charted = [name for name, text in pages.items() if "Current draw" in text]
    assert len(pages) == 3 and len(charted) == 1
    assert "0000000000000001" in pages[charted[0]]
