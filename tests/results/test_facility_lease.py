"""A host that dies mid-device (kill -9) leaves its device claimed; once the lease expires a
live host claims it again and triages it, once: the lost attempt is kept in the claim's
history, never counted as a result (real processes, real PostgreSQL, a 3 s lease)."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

from _facility import batch_file, kill_host, query, rows_while_alive, start_host


def test_a_dead_hosts_device_comes_back_after_the_lease(postgres_url: str,
                                                        tmp_path: Path) -> None:
    batch = batch_file(tmp_path, 3, seed=8)
    doomed = start_host(tmp_path, "doomed", postgres_url, batch, "c1", lease=3.0)
    held = rows_while_alive(postgres_url, "SELECT item_key FROM claim WHERE state = "
                            f"'claimed' AND pid = {doomed.pid}", doomed)
    assert held, "the host never claimed a device"
    time.sleep(0.5)  # part way through the device's tests
    kill_host(doomed)
    lost_key = held[0][0]
    assert query(postgres_url, "SELECT count(*) FROM device_result WHERE item_key = "
                               f"'{lost_key}'") == [(0,)]
    survivor = start_host(tmp_path, "survivor", postgres_url, batch, "c1", lease=3.0)
    out = survivor.communicate(timeout=120)[0]
    assert survivor.returncode in (0, 1), out[-2000:]
    assert f"{lost_key}: claimed again from " in out
    keys = Counter(k for (k,) in query(postgres_url, "SELECT item_key FROM device_result "
                                                     "WHERE verdict <> 'INTERRUPTED'"))
    assert keys == Counter({"item1": 1, "item2": 1, "item3": 1})
    (attempts, lost, bench), = query(postgres_url, "SELECT attempts, lost, bench FROM claim "
                                                   f"WHERE item_key = '{lost_key}'")
    assert attempts == 2 and bench == "survivor"
    assert [(a["pid"], a["bench"]) for a in json.loads(lost)] == [(doomed.pid, "doomed")]
