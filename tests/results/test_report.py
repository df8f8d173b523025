"""``meterbench report``: HTML with RFI table, charts and device pages; CSV; JSON; exit 2."""

from __future__ import annotations

import csv
import datetime
import json
from pathlib import Path

import pytest
import typer
from _html import Page
from _results_sample import T0, sample
from typer.testing import CliRunner

from harness.cli.report import report_command
from harness.results.store import ResultStore
from harness.triage.current_trace import CurrentTrace

app = typer.Typer()
app.command("report")(report_command)
app.command("other")(lambda: None)  # two commands, so "report" is a subcommand as when wired
runner = CliRunner()
TRACE = CurrentTrace(((0.0, 0.0), (0.02, 0.31), (0.3, 0.05), (0.8, 0.012)), "TRI-PWR-01", 0.5)


@pytest.fixture
def db(db_url: str) -> str:
    """Six devices on two days, item0 with a current trace (SQLite, then PostgreSQL)."""
    url = db_url
    with ResultStore.open(url) as store:
        cid = store.start_campaign(bench="b1", operator="ann", role="Supplier",
                                   batch_name="b.csv")
        for i in range(6):  # items 0,3 NFF (CHF), 1,4 FAULT (ESME), 2,5 INCONCLUSIVE (GSME)
            record, verdict = sample(i)
            if i == 0:
                record.current_trace = TRACE
            store.record(cid, record, verdict,
                         datetime.datetime(2024, 3, 1 + i // 3, 12, tzinfo=datetime.UTC))
    return url


def _run(*args: str):
    return runner.invoke(app, ["report", *args])


def test_html_report(db: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = _run("--db", db, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "6 device(s)" in result.output
    index = (out / "index.html").read_text()
    assert "RFI figures" in index and "Communications Hubs" in index
    assert index.count("data:image/png;base64,") == 3
    for title in ("Verdicts by device type", "Fault categories", "Triage time distribution"):
        assert title in index
    pages = sorted((out / "devices").glob("*.html"))
    assert len(pages) == 6
    page = next(p.read_text() for p in pages if "0000000000000001" in p.read_text())
    assert "supply current" in page and "TRI-PWR-01" in page and "PASS" in page
    assert "fault with SM HAN interface" in page and "no join" in page
    traced = [p for p in pages if "Current draw" in p.read_text()]
    assert len(traced) == 1
    with (out / "results.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 6 and {r["verdict"] for r in rows} == {"NO_FAULT_FOUND", "FAULT",
                                                               "INCONCLUSIVE"}


def test_transcript_is_a_file_linked_from_its_device_page(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    with ResultStore.open(url) as store:
        cid = store.start_campaign(bench="b1", operator="ann", role="Supplier", batch_name="x")
        for i, transcript in enumerate(("===== test_x · psu =====\n> OUTP ON\n< 0", None)):
            record, verdict = sample(i)
            store.record(cid, record, verdict, T0, transcript=transcript, bench=f"bench-{i}")
    assert _run("--db", url, "--out", str(tmp_path / "o")).exit_code == 0
    pages = {p.name: p.read_text() for p in (tmp_path / "o" / "devices").glob("*.html")}
    linked = [name for name, text in pages.items()
              if any(link.endswith("-transcript.txt") for link in Page(text).links)]
    assert len(linked) == 1
    log = (tmp_path / "o" / "devices" / linked[0].replace(".html", "-transcript.txt"))
    assert "> OUTP ON" in log.read_text()
    assert {"bench-0", "bench-1"} <= {b for t in pages.values() for b in ("bench-0", "bench-1")
                                      if f"<td>{b}</td>" in t}


def test_html_escapes_device_text(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    with ResultStore.open(url) as store:
        cid = store.start_campaign(bench="<b>", operator="ann", role="Supplier",
                                   batch_name="x")
        record, verdict = sample(0)
        record.key = "<script>alert(1)</script>"
        store.record(cid, record, verdict, T0)
    assert _run("--db", url, "--out", str(tmp_path / "o")).exit_code == 0
    text = (tmp_path / "o" / "index.html").read_text()
    assert "<script>alert" not in text and "&lt;script&gt;alert(1)" in text
    assert not any("alert(1)" in code for code in Page(text).scripts)  # only the report's own


def test_json_report_for_a_period(db: str, tmp_path: Path) -> None:
    out = tmp_path / "json"
    result = _run("--db", db, "--out", str(out), "--format", "json",
                  "--since", "2024-03-02", "--until", "2024-03-02")
    assert result.exit_code == 0, result.output
    assert [p.name for p in out.iterdir()] == ["results.json"]
    data = json.loads((out / "results.json").read_text())
    assert [d["item_key"] for d in data["devices"]] == ["item3", "item4", "item5"]
    assert data["rfi"]["total"] == {"returned": 3, "needed_reset": 1, "no_fault_found": 1,
                                    "fault": 1, "inconclusive": 1, "not_triaged": 0,
                                    "faults_by_category": {"HAN": 1}}
    assert data["devices"][0]["measurements"][0]["unit"] == "A"


def test_csv_report(db: str, tmp_path: Path) -> None:
    out = tmp_path / "csv"
    assert _run("--db", db, "--out", str(out), "--format", "csv").exit_code == 0
    assert sorted(p.name for p in out.iterdir()) == ["measurements.csv", "results.csv",
                                                     "rfi.csv"]
    with (out / "rfi.csv").open() as fh:
        rfi = {r["group"]: r for r in csv.DictReader(fh)}
    assert rfi["Communications Hubs"]["no_fault_found"] == "2"
    assert rfi["Total"]["returned"] == "6"
    with (out / "measurements.csv").open() as fh:
        assert len(list(csv.DictReader(fh))) == 12


def test_empty_period_still_writes_a_report(db: str, tmp_path: Path) -> None:
    result = _run("--db", db, "--out", str(tmp_path / "e"), "--since", "2030-01-01")
    assert result.exit_code == 0 and "0 device(s)" in result.output
    assert "No faults." in (tmp_path / "e" / "index.html").read_text()


def test_missing_database_exits_2_and_creates_nothing(tmp_path: Path) -> None:
    db_file = tmp_path / "none.db"
    result = _run("--db", f"sqlite:///{db_file}", "--out", str(tmp_path / "o"))
    assert result.exit_code == 2
    assert "no results database" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not db_file.exists() and not (tmp_path / "o").exists()


@pytest.mark.parametrize("args", [["--since", "March"],
                                  ["--since", "2024-03-02", "--until", "2024-03-01"]])
def test_bad_period_exits_2(db: str, tmp_path: Path, args: list[str]) -> None:
    result = _run("--db", db, "--out", str(tmp_path / "o"), *args)
    assert result.exit_code == 2 and "error:" in result.output
