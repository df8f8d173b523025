"""The RFI per SMETS generation and device type over a period of return dates: the store keeps
each result's return date and generation (older databases gain the columns), the figures
split by generation, and ``meterbench report --by-return-date`` filters on return dates."""

from __future__ import annotations

import datetime
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest
import typer
from _results_sample import sample
from typer.testing import CliRunner

from harness.cli.report import report_command
from harness.results.rfi import UNKNOWN_GENERATION, rfi_figures
from harness.results.store import ResultStore, ResultStoreError

app = typer.Typer()
app.command("report")(report_command)
app.command("other")(lambda: None)
TRIAGED = datetime.datetime(2026, 12, 1, 12, tzinfo=datetime.UTC)
D = datetime.date


@dataclass
class Row:
    device_type: str
    verdict: str
    generation: str | None
    category: str | None = None
    reset: bool = False


def test_figures_per_generation_and_type() -> None:
    figures = rfi_figures([
        Row("ESME", "NO_FAULT_FOUND", "SMETS2", reset=True), Row("ESME", "SKIPPED", "SMETS1"),
        Row("GSME", "SKIPPED", "SMETS1"), Row("ESME", "FAULT", "SMETS2", "HAN"),
        Row("CHF", "NO_FAULT_FOUND", None, reset=True)])
    by = figures.by_generation
    assert list(by) == ["SMETS1", "SMETS2", UNKNOWN_GENERATION]
    assert {k: v.returned for k, v in by["SMETS1"].items()} == {"Electricity meters": 1,
                                                               "Gas meters": 1}
    assert by["SMETS1"]["Electricity meters"].not_triaged == 1
    smets2 = by["SMETS2"]["Electricity meters"]
    assert (smets2.returned, smets2.no_fault_found, smets2.fault) == (2, 1, 1)
    assert figures.as_dict()["by_generation"]["SMETS1"]["Gas meters"]["returned"] == 1
    assert figures.total.returned == 5


def _fill(url: str) -> None:
    """Four results triaged the same day, returned on different days (one date unknown)."""
    with ResultStore.open(url) as store:
        cid = store.start_campaign(bench="b", operator="ann", role="Supplier", batch_name="x")
        for i, (returned, gen) in enumerate([(D(2026, 10, 1), "SMETS2"),
                                             (D(2026, 11, 5), "SMETS1"),
                                             (D(2026, 11, 20), "SMETS2"), (None, None)]):
            record, verdict = sample(i, device_type="ESME")
            store.record(cid, record, verdict, TRIAGED, return_date=returned, generation=gen)


def test_the_period_is_one_of_return_dates(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    _fill(url)
    with ResultStore.open(url, create=False) as store:
        november = store.results(since=D(2026, 11, 1), until=D(2026, 11, 30),
                                 by_return_date=True)
        assert [(r.item_key, r.generation, r.return_date) for r in november] == [
            ("item1", "SMETS1", D(2026, 11, 5)), ("item2", "SMETS2", D(2026, 11, 20))]
        assert store.results(since=D(2026, 11, 1), until=D(2026, 11, 30)) == []  # triage time
        assert len(store.results(by_return_date=True)) == 4  # no period: every result
    out = tmp_path / "rep"
    result = CliRunner().invoke(app, ["report", "--db", url, "--out", str(out), "--since",
                                      "2026-11-01", "--until", "2026-11-30",
                                      "--by-return-date", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads((out / "results.json").read_text())
    assert data["period"]["of"] == "return dates"
    rfi = data["rfi"]["by_generation"]
    assert rfi["SMETS1"]["Electricity meters"]["returned"] == 1
    assert rfi["SMETS2"]["Electricity meters"]["returned"] == 1


def test_an_older_database_is_read_and_gains_the_columns(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    url = f"sqlite:///{path}"
    _fill(url)
    with sqlite3.connect(path) as conn:  # as a database made before the columns existed
        conn.execute("ALTER TABLE device_result DROP COLUMN return_date")
        conn.execute("ALTER TABLE device_result DROP COLUMN generation")
    with ResultStore.open(url, create=False) as store:
        rows = store.results()
        assert len(rows) == 4 and {(r.generation, r.return_date) for r in rows} == {(None, None)}
        assert store.results(since=D(2026, 11, 1), by_return_date=True) == []
        record, verdict = sample(9)
        with pytest.raises(ResultStoreError, match="open it with create=True"):
            store.record(rows[0].campaign_id, record, verdict, return_date=D(2026, 11, 2))
    with ResultStore.open(url) as store:  # a write open adds them; older rows stay unknown
        store.record(rows[0].campaign_id, record, verdict, return_date=D(2026, 11, 2),
                     generation="SMETS2")
        got = store.results(since=D(2026, 11, 1), by_return_date=True)
        assert [(r.item_key, r.generation) for r in got] == [("item9", "SMETS2")]
        assert len(store.results()) == 5
