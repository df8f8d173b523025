"""A campaign the console starts is ``meterbench triage`` with the signed-in operator, the
console's store and audit log, and the live feed; a busy bench or a missing manifest is
refused before anything runs."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from harness.console.app import create_app
from harness.console.line import Line
from tests.console.conftest import Kit
from tests.console.test_auth import FAST_BENCH, sign_in


@pytest.fixture
def line() -> Line:
    return Line([FAST_BENCH], db="sqlite:///r.db", audit_db="sqlite:///a.db",
                base_url="http://127.0.0.1:1")


def test_an_emulated_campaign_generates_its_population(line: Line) -> None:
    bench = line.benches["emulated-fast"]
    cmd = line.command(bench, devices=3, seed=7, operator="ann", role="supplier",
                       time_scale=10.0)
    assert cmd[:4] == [sys.executable, "-m", "harness", "triage"]
    joined = " ".join(cmd)
    for part in (f"--bench {FAST_BENCH}", "--db sqlite:///r.db", "--audit-db sqlite:///a.db",
                 "--operator ann", "--role supplier", "--devices 3", "--seed 7", "--again",
                 "--time-scale 10.0", "-- -p harness.console.feed"):
        assert part in joined, part


def test_a_manifest_is_triaged_device_by_device(line: Line, tmp_path: Path) -> None:
    bench = line.benches["emulated-fast"]
    cmd = line.command(bench, devices=3, seed=0, operator="ann", role="supplier",
                       time_scale=None, batch=tmp_path / "week12.csv")
    assert f"--batch {tmp_path / 'week12.csv'}" in " ".join(cmd)
    assert "--devices" not in cmd and "--slots" not in cmd
    bench.emulated = False  # a physical bench without a manifest: the devices in its slots
    assert "--slots" in line.command(bench, devices=1, seed=0, operator="ann", role="rsa",
                                     time_scale=None)


def test_refused_before_anything_runs(line: Line, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no bench 'other'"):
        asyncio.run(line.start("other", devices=1, seed=0, operator="ann", role="supplier"))
    with pytest.raises(ValueError, match="no returns manifest at"):
        asyncio.run(line.start("emulated-fast", devices=1, seed=0, operator="ann",
                               role="supplier", batch=tmp_path / "none.csv"))
    line.benches["emulated-fast"].state = "running"
    with pytest.raises(ValueError, match="already running"):
        asyncio.run(line.start("emulated-fast", devices=1, seed=0, operator="ann",
                               role="supplier"))
    assert line.benches["emulated-fast"].process is None


def test_a_run_that_fails_says_why_on_its_bench(kit: Kit) -> None:
    bad = kit.folder / "week12.csv"
    bad.write_text("not,a,manifest\n1,2,3\n")
    app = create_app(kit.settings([FAST_BENCH]))
    with TestClient(app) as client:
        token = sign_in(client, "ann")
        reply = client.post("/benches/emulated-fast/start",
                            data={"csrf": token, "batch": str(bad)}, follow_redirects=False)
        assert reply.status_code == 303
        deadline = time.monotonic() + 60
        while (bench := client.get("/line.json").json()["benches"][0])["state"] != "failed":
            assert bench["state"] in ("starting", "running"), bench
            assert time.monotonic() < deadline, "the run did not end"
            time.sleep(0.1)
    assert bench["exit_code"] == 2
    assert any("week12.csv" in line for line in bench["tail"]), bench["tail"]
    assert ("ann", "supplier", "start campaign", "done") in kit.audit()
