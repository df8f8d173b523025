"""The proof of facility mode with real processes on a real PostgreSQL: three "hosts", each a
`meterbench triage --campaign` process with an emulated bench of its own, work one batch
together, and every device is triaged exactly once in all."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from _facility import batch_file, query, start_host


def test_three_hosts_triage_the_batch_exactly_once(postgres_url: str, tmp_path: Path) -> None:
    batch = batch_file(tmp_path, 9)
    url = postgres_url.replace("postgresql+psycopg://", "postgres://")  # as people write it
    hosts = [start_host(tmp_path, f"host{n}", url, batch, "week49") for n in range(3)]
    outputs = [h.communicate(timeout=150)[0] for h in hosts]
    for h, out in zip(hosts, outputs, strict=True):
        assert h.returncode in (0, 1), out[-2000:]  # 1: some devices were found FAULT
    rows = query(postgres_url, "SELECT item_key, bench, verdict FROM device_result")
    assert Counter(k for k, _, _ in rows) == Counter(f"item{i}" for i in range(1, 10))
    assert all(v != "INTERRUPTED" for _, _, v in rows)
    by_bench = Counter(b for _, b, _ in rows)
    assert len(by_bench) >= 2, by_bench  # the work was shared, not done by one host
    assert query(postgres_url, "SELECT count(*) FROM campaign") == [(1,)]
    assert query(postgres_url, "SELECT state, count(*) FROM claim GROUP BY state") \
        == [("done", 9)]
    assert query(postgres_url, "SELECT count(*) FROM campaign WHERE finished IS NOT NULL") \
        == [(1,)]
