"""``meterbench status --db``: campaigns with devices done / claimed / waiting, benches with
their holder, current device and rate, as tables and as JSON (SQLite and PostgreSQL)."""

from __future__ import annotations

import json

from _results_sample import sample
from typer.testing import CliRunner

from harness.cli import app
from harness.results.bench_owner import FacilityBenchLock
from harness.results.facility import Facility
from harness.results.store import ResultStore

runner = CliRunner()


def _status(url: str, *extra: str) -> dict:
    result = runner.invoke(app, ["status", "--db", url, "--json", *extra])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_status_counts_a_facility_campaign_and_a_plain_one(db_url: str) -> None:
    with ResultStore.open(db_url) as store:
        plain = store.start_campaign(bench="solo", operator="ann", role="supplier",
                                     batch_name="old.csv")
        store.record(plain, *sample(1), bench="solo")
        host = Facility(store, bench="bench-1", host="h1", pid=1)
        cid = host.join("week49", batch_name="b.csv", keys=[f"item{i}" for i in range(1, 6)],
                        operator="ann", role="supplier")
        for i in (1, 2):
            host.claim(f"item{i}")
            store.record(cid, *sample(i), bench="bench-1")
            host.release(f"item{i}", done=True)
        host.claim("item3")
        owner = None
        if FacilityBenchLock.applies(store):
            owner = FacilityBenchLock(store, "bench-1").acquire()
            owner.set_device("item3", cid)
        try:
            got = _status(db_url)
        finally:
            if owner is not None:
                owner.release()
    week49, old = got["campaigns"]
    assert (week49["name"], week49["done"], week49["claimed"], week49["waiting"]) \
        == ("week49", 2, 1, 2)
    assert (old["name"], old["done"], old["claimed"], old["waiting"]) == (None, 1, None, None)
    benches = {b["bench"]: b for b in got["benches"]}
    assert benches["bench-1"]["devices_in_window"] == 2  # recorded just now
    if db_url.startswith("postgresql"):
        assert benches["bench-1"]["holder"].endswith(f"pid {__import__('os').getpid()}")
        assert (benches["bench-1"]["device"], benches["bench-1"]["campaign_id"]) \
            == ("item3", cid)
    table = runner.invoke(app, ["status", "--db", db_url])
    assert table.exit_code == 0 and "week49" in table.output and "bench-1" in table.output


def test_rate_per_bench_over_the_window(tmp_path) -> None:
    import datetime

    url = f"sqlite:///{tmp_path / 'r.db'}"
    now = datetime.datetime.now(datetime.UTC)
    with ResultStore.open(url) as store:
        cid = store.start_campaign(bench="b", operator="ann", role="supplier", batch_name="x")
        for i in range(1, 5):  # four devices over three minutes
            record, verdict = sample(i)
            record.started = now - datetime.timedelta(minutes=3) + datetime.timedelta(
                minutes=(i - 1) * 0.75)
            store.record(cid, record, verdict, finished=record.started
                         + datetime.timedelta(minutes=0.75), bench="b")
    (bench,) = _status(url)["benches"]
    assert bench["devices_in_window"] == 4 and abs(bench["per_minute"] - 4 / 3) < 0.05


def test_status_of_a_missing_store_is_a_usage_error(tmp_path) -> None:
    result = runner.invoke(app, ["status", "--db", f"sqlite:///{tmp_path / 'none.db'}"])
    assert result.exit_code == 2 and "no results database" in result.output
