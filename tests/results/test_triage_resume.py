"""A batch triage commits each verdict as it is known; a re-run resumes, never records twice."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from harness.emulator.world.population import PopulationSpec, generate
from harness.results.store import ResultStore
from harness.triage.intake import write_csv


def triage(batch: Path, db: str, cwd: Path, *extra: str) -> list[dict]:
    proc = subprocess.run([sys.executable, "-m", "harness", "triage", "--batch", str(batch),
                           "--db", db, "--json", *extra],
                          capture_output=True, text=True, timeout=600, cwd=cwd)
    return [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]


def test_rerun_resumes_and_records_each_device_once(tmp_path: Path) -> None:
    rows = generate(PopulationSpec(4, seed=21, no_fault_ratio=0.5))
    batch = tmp_path / "batch.csv"
    write_csv(rows, batch)
    db = f"sqlite:///{tmp_path / 'results.db'}"
    first = triage(batch, db, tmp_path, "-k", "item1 or item2")  # stopped after two devices
    assert {v["item"] for v in first} == {"item1", "item2"}
    out = tmp_path / "out"
    second = triage(batch, db, tmp_path, "--out", str(out))
    assert {v["item"] for v in second} == {"item3", "item4"}
    assert "<testsuite" in (out / "junit.xml").read_text()
    assert list((out / "allure-results").glob("*-result.json"))
    assert "## " in (out / "conformance.md").read_text()
    assert len((out / "verdicts.jsonl").read_text().splitlines()) == 2
    store = ResultStore.open(db, create=False)
    assert store.count() == 4
    assert sorted(r.item_key for r in store.results()) == ["item1", "item2", "item3", "item4"]
    report = subprocess.run([sys.executable, "-m", "harness", "report", "--db", db, "--out",
                             str(tmp_path / "report")], capture_output=True, text=True,
                            timeout=300)
    assert report.returncode == 0, report.stderr
    assert (tmp_path / "report" / "index.html").exists()
