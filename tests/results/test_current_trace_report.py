"""A device's current-draw trace: stored in its own table, drawn on its report page; older
databases without the table stay readable (SQLite and PostgreSQL)."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from xml.etree import ElementTree

import pytest
from _results_sample import T0, sample
from sqlalchemy import create_engine, text

from harness.results.report import write_report
from harness.results.store import ResultStore, ResultStoreError
from harness.triage.current_trace import CurrentTrace
from harness.triage.record import Measurement

TRACE = CurrentTrace(((0.0, 0.0), (0.021, 0.31), (0.3, 0.05), (0.62, 0.0121)), "TRI-PWR-01",
                     0.5)
SVG = "{http://www.w3.org/2000/svg}"


def _record_two(url: str) -> None:
    """item0 with a trace and an idle envelope measurement, item1 without a trace."""
    with ResultStore.open(url) as store:
        cid = store.start_campaign(bench="b1", operator="ann", role="Supplier", batch_name="x")
        traced, verdict = sample(0)
        traced.current_trace = TRACE
        traced.measure(Measurement("standby_current", 0.012, "A", 0.004, 0.03, "TRI-PWR-02"))
        store.record(cid, traced, verdict, T0)
        store.record(cid, *sample(1), T0)


def _svgs(page: str) -> list[str]:
    return re.findall(r"<svg .*?</svg>", page, flags=re.S)


def _images(page: str) -> list[bytes]:
    return [base64.b64decode(m) for m in re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)",
                                                    page)]


def test_trace_round_trips_through_the_store(db_url: str) -> None:
    _record_two(db_url)
    with ResultStore.open(db_url, create=False) as store:
        traced, plain = store.results()
    assert traced.current_trace == TRACE and plain.current_trace is None
    assert "current_trace" not in traced.evidence["notes"]  # stored once, in its own table


def test_trace_is_an_image_on_its_device_page_only(db_url: str, tmp_path: Path) -> None:
    _record_two(db_url)
    with ResultStore.open(db_url, create=False) as store:
        rows = store.results()
    write_report(rows, tmp_path)
    traced = (tmp_path / "devices" / f"device-{rows[0].id}.html").read_text()
    plain = (tmp_path / "devices" / f"device-{rows[1].id}.html").read_text()
    assert "Current draw" in traced and "4 samples from 0 s to 0.62 s after power-on" in traced
    [svg] = _svgs(traced)  # drawn inline: the page opens offline, nothing beside it
    root = ElementTree.fromstring(svg)
    assert root.get("aria-label") == "Current draw from power-on"
    assert len(root.find(f"{SVG}polyline").get("points").split()) == 4
    assert _images(traced) == []
    assert "Current draw" not in plain and _svgs(plain) == []


def test_json_report_carries_the_trace(db_url: str, tmp_path: Path) -> None:
    _record_two(db_url)
    with ResultStore.open(db_url, create=False) as store:
        write_report(store.results(), tmp_path, fmt="json")
    devices = json.loads((tmp_path / "results.json").read_text())["devices"]
    assert devices[0]["current_trace"] == TRACE.as_dict()
    assert devices[1]["current_trace"] is None


def test_older_database_without_the_trace_table(db_url: str, tmp_path: Path) -> None:
    """A database from before traces: a report reads it; the next writer adds the table."""
    with ResultStore.open(db_url) as store:
        cid = store.start_campaign(bench="b1", operator="ann", role="Supplier", batch_name="x")
        store.record(cid, *sample(0), T0)
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE current_trace"))
    engine.dispose()
    with ResultStore.open(db_url, create=False) as store:
        [row] = store.results()
        assert row.current_trace is None
        record, verdict = sample(1)
        record.current_trace = TRACE
        with pytest.raises(ResultStoreError, match="no current_trace table"):
            store.record(cid, record, verdict)
        write_report([row], tmp_path)
    assert "Current draw" not in next((tmp_path / "devices").glob("*.html")).read_text()
    with ResultStore.open(db_url) as store:  # a writer: the table is added, old rows kept
        assert store.record(cid, record, verdict, T0)
        assert [r.current_trace for r in store.results()] == [None, TRACE]


def test_damaged_trace_row_is_named(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    _record_two(url)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE current_trace SET samples = '[[0, 0.1], [\"x\", 1]]'"))
    engine.dispose()
    with ResultStore.open(url, create=False) as store, \
            pytest.raises(ResultStoreError, match=r"current_trace of device result 1 \(item0\)"
                                                  r": samples\[1\]: expected \[seconds, amps\]"):
        store.results()
