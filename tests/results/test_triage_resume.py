"""A batch triage commits each verdict as it is known; a re-run resumes, never records twice."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from harness.cli.pytest_bridge import suites_dir
from harness.config.loader import default_bench_path
from harness.emulator.world.population import PopulationSpec, generate
from harness.results.store import ResultStore
from harness.triage.intake import write_csv

# The fast bench at x30: these tests are about what is recorded and resumed, not the verdicts.
FAST_BENCH, SCALE = str(default_bench_path().parent / "emulated-fast.toml"), "30"
FAST = ("--bench", FAST_BENCH, "--time-scale", SCALE)


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
    first = triage(batch, db, tmp_path, *FAST, "-k", "item1 or item2")  # stopped after two
    assert {v["item"] for v in first} == {"item1", "item2"}
    out = tmp_path / "out"
    second = triage(batch, db, tmp_path, *FAST, "--out", str(out))
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


def test_a_finished_batch_is_not_triaged_again_unless_asked(tmp_path: Path) -> None:
    rows = generate(PopulationSpec(2, seed=22, no_fault_ratio=1.0))
    batch = tmp_path / "batch.csv"
    write_csv(rows, batch)
    db = f"sqlite:///{tmp_path / 'results.db'}"
    assert len(triage(batch, db, tmp_path, *FAST)) == 2  # the campaign finishes
    again = subprocess.run([sys.executable, "-m", "harness", "triage", "--batch", str(batch),
                            "--db", db, *FAST], capture_output=True, text=True, timeout=600,
                           cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "was triaged on bench" in again.stderr and "nothing to do" in again.stderr
    assert "--again" in again.stderr
    # pytest users get the same refusal from the plugin itself
    direct = subprocess.run([sys.executable, "-m", "pytest", str(suites_dir()), "-q",
                             "-p", "no:cacheprovider", "--mb-batch", str(batch), "--mb-db", db,
                             "--mb-bench", FAST_BENCH, "--mb-time-scale", SCALE],
                            capture_output=True, text=True,
                            timeout=600, cwd=tmp_path)
    assert direct.returncode == 0 and "--mb-again" in direct.stdout + direct.stderr, direct
    with ResultStore.open(db, create=False) as store:
        assert store.count() == 2
    assert len(triage(batch, db, tmp_path, *FAST, "--again", "-k", "item1")) == 1
    with ResultStore.open(db, create=False) as store:
        assert store.count() == 3  # the history is kept...
    report = subprocess.run([sys.executable, "-m", "harness", "report", "--db", db, "--out",
                             str(tmp_path / "report"), "--format", "json"],
                            capture_output=True, text=True, timeout=300)
    assert report.returncode == 0, report.stderr
    data = json.loads((tmp_path / "report" / "results.json").read_text())
    assert data["rfi"]["total"]["returned"] == 2  # ...and each device counted once
    assert len(data["devices"]) == 3
