"""Emulated devices are no lab's returns: each result records its bench kind, and a report
over a store that holds a lab's results leaves the emulated ones out of the figures (saying
so) unless asked; a store of emulated results alone (CI, a demo) is reported, marked."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import typer
from _results_sample import sample
from typer.testing import CliRunner

from harness.cli.report import report_command
from harness.results.store import EMULATED, PHYSICAL, ResultStore

app = typer.Typer()
app.command("report")(report_command)
app.command("other")(lambda: None)
DAY = datetime.datetime(2024, 3, 1, 12, tzinfo=datetime.UTC)


def _store(url: str, kinds: list[str | None]) -> None:
    with ResultStore.open(url) as store:
        cid = store.start_campaign(bench="b", operator="ann", role="Supplier", batch_name="b")
        for i, kind in enumerate(kinds):
            record, verdict = sample(i)
            store.record(cid, record, verdict, DAY, bench_kind=kind)


def _report(url: str, out: Path, *extra: str) -> tuple[str, dict]:
    result = CliRunner().invoke(app, ["report", "--db", url, "--out", str(out),
                                      "--format", "json", *extra])
    assert result.exit_code == 0, result.output
    return result.output, json.loads((out / "results.json").read_text())


def test_the_store_records_and_filters_the_bench_kind(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    _store(url, [PHYSICAL, EMULATED, None, EMULATED])
    with ResultStore.open(url) as store:
        assert [r.emulated for r in store.results()] == [False, True, False, True]
        assert len(store.results(emulated=True)) == 2
        # A result from before benches were recorded counts as the lab's own.
        assert [r.bench_kind for r in store.results(emulated=False)] == [PHYSICAL, None]


def test_a_lab_report_leaves_emulated_results_out_and_says_so(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    _store(url, [PHYSICAL, EMULATED, PHYSICAL, EMULATED, EMULATED])
    output, data = _report(url, tmp_path / "lab")
    assert data["rfi"]["total"]["returned"] == 2
    assert "3 result(s) of emulated benches left out" in output
    output, data = _report(url, tmp_path / "all", "--emulated", "include")
    assert data["rfi"]["total"]["returned"] == 5 and "3 emulated" in output
    _, data = _report(url, tmp_path / "only", "--emulated", "only")
    assert data["rfi"]["total"]["returned"] == 3


def test_an_emulated_store_alone_is_reported_and_marked(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    _store(url, [EMULATED, EMULATED])
    output, data = _report(url, tmp_path / "ci")
    assert data["rfi"]["total"]["returned"] == 2
    assert output.startswith("2 emulated device(s)")
    _, data = _report(url, tmp_path / "none", "--emulated", "exclude")
    assert data["rfi"]["total"]["returned"] == 0


def test_a_run_without_a_bench_says_it_is_emulated_and_stores_it_so(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'r.db'}"
    proc = subprocess.run(
        [sys.executable, "-m", "harness", "triage", "--devices", "1", "--time-scale", "10",
         "--db", url, "--plain"], capture_output=True, text=True, timeout=600, cwd=tmp_path,
        env={**os.environ, "MB_LOCK_DIR": str(tmp_path / "locks")})
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    assert "EMULATED: no --bench given: the built-in emulated bench" in proc.stderr
    with ResultStore.open(url, create=False) as store:
        assert [r.bench_kind for r in store.results()] == [EMULATED]
        assert [c.emulated for c in store.campaigns()] == [True]
