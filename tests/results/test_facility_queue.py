"""The facility's shared queue (``harness.results.facility``) on SQLite and PostgreSQL: hosts
join one named campaign, each device is claimed by one host at a time, a live host's claim
is refused to the others with who holds it, an expired one is taken over (the lost attempt
kept, not counted), and a recorded device is done for everyone."""

from __future__ import annotations

import threading
import time

import pytest
from _results_sample import sample

from harness.results.facility import Facility, FacilityError, Outcome, claim_table
from harness.results.store import ResultStore

KEYS = [f"item{i}" for i in range(1, 5)]


def _host(store: ResultStore, n: int, lease_s: float = 60.0) -> Facility:
    return Facility(store, bench=f"bench-{n}", lease_s=lease_s, host=f"host{n}", pid=1000 + n)


def _join(f: Facility, name: str = "week49", batch: str = "b.csv") -> int:
    return f.join(name, batch_name=batch, keys=KEYS, operator="ann", role="supplier")


def test_hosts_join_one_campaign_and_claim_each_device_once(db_url: str) -> None:
    with ResultStore.open(db_url) as store:
        a, b = _host(store, 1), _host(store, 2)
        assert _join(a) == _join(b) == _join(a)  # joining again changes nothing
        assert [c.name for c in store.campaigns()] == ["week49"]
        assert a.claim("item1").outcome is Outcome.CLAIMED
        held = b.claim("item1")
        assert held.outcome is Outcome.HELD and held.holder == "host1 pid 1001 on bench bench-1"
        assert held.lease_left_s is not None and 50 < held.lease_left_s <= 60
        assert b.claim("item2").outcome is Outcome.CLAIMED
        store.record(a.campaign_id, *sample(1))
        a.release("item1", done=True)
        assert b.claim("item1").outcome is Outcome.DONE
        assert not a.finished()


def test_another_batch_under_the_same_name_is_refused(db_url: str) -> None:
    with ResultStore.open(db_url) as store:
        _join(_host(store, 1))
        with pytest.raises(FacilityError, match=r"campaign 'week49' triages batch 'b.csv', "
                                                r"not 'other.csv'"):
            _join(_host(store, 2), batch="other.csv")


def test_an_expired_lease_is_taken_over_and_the_lost_attempt_kept(db_url: str) -> None:
    with ResultStore.open(db_url) as store:
        dead, live = _host(store, 1, lease_s=0.3), _host(store, 2, lease_s=0.3)
        _join(dead), _join(live)
        assert dead.claim("item1").outcome is Outcome.CLAIMED
        assert live.claim("item1").outcome is Outcome.HELD
        time.sleep(0.5)  # the dead host never renews
        taken = live.claim("item1")
        assert taken.outcome is Outcome.CLAIMED
        assert taken.retaken_from == "host1 pid 1001 on bench bench-1"
        assert dead.renew() == 0  # the late host no longer holds it
        dead.release("item1", done=True)  # nor can it mark it done
        with store._engine.connect() as conn:
            row = conn.execute(claim_table.select().where(
                claim_table.c.item_key == "item1")).one()
        assert (row.state, row.host, row.attempts) == ("claimed", "host2", 2)
        assert '"host": "host1"' in row.lost
        assert store.done_items(live.campaign_id) == set()  # never counted as a result


def test_a_live_host_renews_its_lease(db_url: str) -> None:
    with ResultStore.open(db_url) as store:
        a, b = _host(store, 1, lease_s=0.6), _host(store, 2, lease_s=0.6)
        _join(a), _join(b)
        a.claim("item1")
        for _ in range(4):
            time.sleep(0.25)
            assert a.renew() == 1
        assert b.claim("item1").outcome is Outcome.HELD


def test_a_device_recorded_by_a_host_that_died_before_releasing_is_done(db_url: str) -> None:
    with ResultStore.open(db_url) as store:
        a, b = _host(store, 1, lease_s=0.2), _host(store, 2)
        _join(a), _join(b)
        a.claim("item1")
        store.record(a.campaign_id, *sample(1))  # then killed before release()
        time.sleep(0.3)
        assert b.claim("item1").outcome is Outcome.DONE


def test_many_hosts_claiming_one_device_at_once_one_wins(postgres_url: str) -> None:
    with ResultStore.open(postgres_url) as store:
        hosts = [_host(store, n) for n in range(8)]
        for h in hosts:
            _join(h)
        barrier = threading.Barrier(len(hosts))
        outcomes: list[Outcome] = []

        def claim(h: Facility) -> None:
            barrier.wait(timeout=20)
            outcomes.append(h.claim("item3").outcome)

        threads = [threading.Thread(target=claim, args=(h,)) for h in hosts]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert sorted(o.value for o in outcomes) == ["claimed"] + ["held"] * 7


def test_a_bad_lease_is_refused(db_url: str) -> None:
    with ResultStore.open(db_url) as store, pytest.raises(FacilityError, match="lease 0"):
        Facility(store, bench="b", lease_s=0)
