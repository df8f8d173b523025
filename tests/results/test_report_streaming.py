"""A report read from light summaries plus paged full reads is the report read all at once:
what lets ``meterbench report`` write 10,000 devices with flat memory."""

from __future__ import annotations

import datetime
import filecmp
import json
from pathlib import Path

import pytest
from _results_sample import T0, sample
from sqlalchemy import create_engine, text

from harness.results.report import write_report
from harness.results.store import ResultStore, ResultStoreError
from harness.triage.current_trace import CurrentTrace

NOW = datetime.datetime(2024, 3, 2, tzinfo=datetime.UTC)
TRACE = CurrentTrace(((0.0, 0.0), (0.02, 0.3), (0.5, 0.012)), "TRI-PWR-01", 0.5)


def _store(url: str, n: int = 7) -> None:
    with ResultStore.open(url) as store:
        cid = store.start_campaign(bench="b1", operator="ann", role="Supplier", batch_name="x")
        for i in range(n):
            record, verdict = sample(i)
            if i % 2 == 0:
                record.current_trace = TRACE
            store.record(cid, record, verdict, T0 + datetime.timedelta(seconds=i),
                         transcript=f"TX {i}\nRX 0x8F74\n" if i != 3 else None)


def _same_tree(a: Path, b: Path) -> None:
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    _, mismatch, errors = filecmp.cmpfiles(a, b, [str(f) for f in files], shallow=False)
    assert mismatch == [] and errors == []


@pytest.mark.parametrize("fmt", ["html", "csv", "json"])
def test_light_rows_read_in_pages_make_the_same_report(tmp_path: Path, fmt: str) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    _store(url)
    with ResultStore.open(url, create=False) as store:
        whole = store.results()
        light = store.results(light=True)
        write_report(whole, tmp_path / "whole", fmt=fmt, generated_at=NOW)  # type: ignore[arg-type]
        write_report(light, tmp_path / "paged", fmt=fmt, generated_at=NOW,  # type: ignore[arg-type]
                     full=lambda rs: store.full_results([r.id for r in rs], page=2))
    _same_tree(tmp_path / "whole", tmp_path / "paged")
    if fmt == "json":  # written device by device, yet exactly what json.dumps(indent=2) writes
        written = (tmp_path / "paged" / "results.json").read_text()
        data = json.loads(written)
        assert len(data["devices"]) == 7 and written == json.dumps(data, indent=2)
    else:
        assert len(list((tmp_path / "paged" / "devices").glob("*transcript.txt"))) == 6
        lines = (tmp_path / "paged" / "results.csv").read_text().splitlines()
        assert len(lines) == 8


def test_light_rows_carry_no_evidence_and_full_reads_keep_order(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    _store(url)
    with ResultStore.open(url, create=False) as store:
        light = store.results(light=True)
        assert all(r.evidence == {} and r.transcript is None and r.measurements == ()
                   and r.current_trace is None for r in light)
        ids = [r.id for r in reversed(light)]
        assert [r.id for r in store.full_results(ids, page=3)] == ids
        assert store.results() == list(store.full_results([r.id for r in light], page=2))


def test_a_result_gone_mid_report_is_named(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    _store(url, 3)
    with ResultStore.open(url, create=False) as store:
        ids = [r.id for r in store.results(light=True)]
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM measurement WHERE device_result_id = 2"))
            conn.execute(text("DELETE FROM current_trace WHERE device_result_id = 2"))
            conn.execute(text("DELETE FROM device_result WHERE id = 2"))
        engine.dispose()
        with pytest.raises(ResultStoreError, match="device result 2 is gone"):
            list(store.full_results(ids))
