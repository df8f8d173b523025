"""On a facility (PostgreSQL) store the line shows every bench held in the facility, not only
this console's: another host's bench with its holder, device, stage, current draw and time,
kept live from what the holder writes to the store, and gone once the holder lets it go."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from harness.console.app import create_app
from harness.results.bench_owner import FacilityBenchLock
from harness.results.store import ResultStore
from tests.console.conftest import Kit
from tests.console.test_auth import sign_in
from tests.results._facility import batch_file, kill_host, start_host


def _console(kit: Kit, url: str) -> TestClient:
    settings = kit.settings()
    settings.db = url  # the facility's store; the audit log stays the kit's
    settings.facility_poll_s = 0.05
    return TestClient(create_app(settings))


def _until(client: TestClient, test: Callable[[dict[str, Any]], bool],
           timeout: float = 20.0) -> dict[str, Any]:
    """The line once ``test`` holds of it (AssertionError with the line after ``timeout``)."""
    deadline = time.monotonic() + timeout
    while True:
        line = client.get("/line.json").json()
        if test(line) or time.monotonic() > deadline:
            assert test(line), line
            return line
        time.sleep(0.05)


def _card(line: dict[str, Any], name: str) -> dict[str, Any] | None:
    return next((b for b in line["facility"] if b["name"] == name), None)


def test_another_hosts_bench_is_shown_live(kit: Kit, postgres_url: str) -> None:
    with ResultStore.open(postgres_url) as store:
        cid = store.start_campaign(bench="far", operator="dan", role="supplier",
                                   batch_name="b.csv")
        far = FacilityBenchLock(store, "far").acquire(campaign_id=cid)  # "another host"
        far.set_device("item3", cid)
        far.set_live(stage="diagnostics", amps=0.0123)
        with _console(kit, postgres_url) as client:
            sign_in(client, "ann")
            line = _until(client, lambda li: _card(li, "far") is not None)
            card = _card(line, "far")
            assert card is not None and line["benches"] == []  # not one of this console's
            assert card["remote"] and card["host"].endswith(f" pid {__import__('os').getpid()}")
            assert (card["state"], card["campaign_id"]) == ("running", cid)
            (device,) = card["devices"]
            assert (device["device"], device["stage"], device["amps"]) == \
                ("item3", "diagnostics", 0.0123)
            assert 0 <= device["elapsed_s"] < 60 and card["elapsed_s"] is not None
            version = line["version"]
            far.set_live(stage="reset", amps=0.25)  # the run moves on: the line follows
            line = _until(client, lambda li: (_card(li, "far") or {}).get("devices", [{}])[0]
                          .get("stage") == "reset")
            assert line["version"] > version and _card(line, "far")["devices"][0]["amps"] == 0.25
            far.set_device("item4")
            line = _until(client, lambda li: _card(li, "far")["devices"][0]["device"] == "item4")
            assert _card(line, "far")["devices"][0]["stage"] == "starting"  # no stage yet
            page = client.get("/").text
            assert 'id="bench-card"' in page and "data-f=\"host\"" in page
            far.release()  # the holder lets the bench go: its card goes
            _until(client, lambda li: _card(li, "far") is None)


def test_a_triage_host_writes_what_the_line_shows(kit: Kit, postgres_url: str,
                                                  tmp_path: Path) -> None:
    batch = batch_file(tmp_path, 3, seed=6)
    host = start_host(tmp_path, "far-1", postgres_url, batch, "week49")
    try:
        with _console(kit, postgres_url) as client:
            sign_in(client, "ann")
            line = _until(client, lambda li: any(
                d["stage"] != "starting" and d["amps"] is not None
                for d in (_card(li, "far-1") or {}).get("devices", [])), timeout=30)
            card = _card(line, "far-1")
            assert card is not None and card["host"].endswith(f" pid {host.pid}")  # its own
            assert card["total"] == 3 and card["campaign_id"] is not None
            assert card["devices"][0]["device"].startswith("item")
    finally:
        kill_host(host)
