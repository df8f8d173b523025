"""A bench has one owner in the whole facility on a PostgreSQL store: a second host asking
for it is refused and told who holds it (pid, host, campaign, device); a holder that dies
frees it as soon as the server sees its connection close. Unit tests of
``FacilityBenchLock`` and one with two real host processes."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from _facility import batch_file, query, rows_while_alive, start_host

from harness.errors import BenchLockedError
from harness.results.bench_owner import FacilityBenchLock
from harness.results.store import ResultStore


def test_one_owner_per_bench_and_the_holder_is_named(postgres_url: str) -> None:
    with ResultStore.open(postgres_url) as one, ResultStore.open(postgres_url) as two:
        first = FacilityBenchLock(one, "bench-A").acquire(campaign_id=None)
        first.set_device("item7")
        with pytest.raises(BenchLockedError, match=r"bench 'bench-A' is in use in the facility "
                                                   r"by pid \d+ on .* \(device item7\)"):
            FacilityBenchLock(two, "bench-A").acquire()
        other = FacilityBenchLock(two, "bench-B").acquire()  # another bench is free
        first.release()
        second = FacilityBenchLock(two, "bench-A").acquire()
        second.release(), other.release()


def test_a_holder_that_dies_frees_the_bench(postgres_url: str) -> None:
    with ResultStore.open(postgres_url) as one, ResultStore.open(postgres_url) as two:
        held = FacilityBenchLock(one, "bench-A").acquire()
        assert held._conn is not None
        held._conn.invalidate()  # as a killed host: its connection is gone
        # The server ends the dead host's backend, and with it the lock, once it reads the
        # closed socket: milliseconds on a free machine, longer on a loaded one.
        deadline = time.monotonic() + 10
        while True:
            try:
                FacilityBenchLock(two, "bench-A").acquire().release()
                return
            except BenchLockedError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)


def test_sqlite_stores_leave_benches_to_the_file_lock(tmp_path: Path) -> None:
    with ResultStore.open(tmp_path / "r.db") as store:
        assert not FacilityBenchLock.applies(store)


def test_two_hosts_asking_for_one_bench(postgres_url: str, tmp_path: Path) -> None:
    batch = batch_file(tmp_path, 3, seed=4)
    first = start_host(tmp_path, "shared", postgres_url, batch, "c1")
    holder = rows_while_alive(postgres_url, "SELECT pid, host FROM bench_holder WHERE bench "
                              f"= 'shared' AND pid = {first.pid}", first, every=0.1)
    assert holder, "the first host never took the bench"
    (tmp_path / "later").mkdir()
    second = start_host(tmp_path / "later", "shared", postgres_url, batch, "c1")
    out = second.communicate(timeout=60)[0]
    assert second.returncode == 3, out[-2000:]
    assert (f"bench 'shared' is in use in the facility by pid {first.pid} on "
            f"{holder[0][1]}") in out
    out = first.communicate(timeout=120)[0]
    assert first.returncode in (0, 1), out[-2000:]
    assert query(postgres_url, "SELECT count(*) FROM device_result") == [(3,)]
