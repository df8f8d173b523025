"""The results store's paged read API (``harness.results.browse``, methods of ResultStore):
pages are bounded and ordered newest first, filters and search (label, ID, MPxN) narrow them,
an unknown id reads as None, and campaign summaries come from the database."""

from __future__ import annotations

import datetime
from collections.abc import Iterator

import pytest
from _results_sample import T0, sample

from harness.results.browse import MAX_PAGE_SIZE, DeviceLine
from harness.results.store import ResultStore

MPXN = "1900012345678"  # an MPAN as the returns manifest gives it


@pytest.fixture
def store(db_url: str) -> Iterator[ResultStore]:
    """Two campaigns: the first (finished) with items 0..6, item 4 with an MPxN; the second
    (running) with items 10 and 11."""
    with ResultStore.open(db_url) as s:
        first = s.start_campaign(bench="b1", operator="ann", role="supplier",
                                 batch_name="week-1.csv")
        for i in range(7):
            s.record(first, *sample(i), T0 + datetime.timedelta(seconds=i),
                     mpxn=MPXN if i == 4 else None)
        s.finish_campaign(first)
        second = s.start_campaign(bench="b2", operator="bob", role="supplier",
                                  batch_name="week-2.csv")
        for i in (10, 11):
            s.record(second, *sample(i), T0 + datetime.timedelta(seconds=i))
        yield s


def keys(lines: list[DeviceLine]) -> list[str]:
    return [d.item_key for d in lines]


def test_device_pages_are_bounded_and_newest_first(store: ResultStore) -> None:
    first = store.devices_page(1, 3, campaign_id=1)
    assert (keys(first.rows), first.total, first.pages) == (["item6", "item5", "item4"], 7, 3)
    assert keys(store.devices_page(3, 3, campaign_id=1).rows) == ["item0"]
    assert store.devices_page(4, 3, campaign_id=1).rows == []  # past the end: empty, no error
    assert store.devices_page().total == 9 and len(store.devices_page().rows) == 9
    with pytest.raises(ValueError, match="page size 501: must be 1 to 500"):
        store.devices_page(1, MAX_PAGE_SIZE + 1)
    with pytest.raises(ValueError, match="page size 0"):
        store.devices_page(1, 0)
    with pytest.raises(ValueError, match="page number 0: pages are numbered from 1"):
        store.devices_page(0)
    with pytest.raises(ValueError, match="page number -1"):
        store.campaigns_page(-1)


def test_filters_and_search_narrow_the_list(store: ResultStore) -> None:
    assert keys(store.devices_page(campaign_id=2).rows) == ["item11", "item10"]
    faults = store.devices_page(campaign_id=1, verdict="FAULT")  # every i % 3 == 1
    assert keys(faults.rows) == ["item4", "item1"] and faults.total == 2
    assert keys(store.devices_page(search="l5").rows) == ["item5"]  # label, any case
    assert keys(store.devices_page(search=f"{11:016x}").rows) == ["item11"]  # device ID
    assert keys(store.devices_page(search="  ").rows) == keys(store.devices_page().rows)
    assert store.devices_page(search="nothing-like-it").total == 0


def test_a_device_is_found_by_its_mpxn_and_lists_it(store: ResultStore) -> None:
    for needle in (MPXN, MPXN[:8], "12345"):  # whole, a prefix, a middle under six digits
        found = store.devices_page(search=needle)
        assert keys(found.rows) == ["item4"], needle
        assert found.rows[0].mpxn == MPXN
    assert [d.mpxn for d in store.devices_page(campaign_id=1, size=2).rows] == [None, None]


def test_one_device_in_full_and_an_unknown_id_reads_as_none(store: ResultStore) -> None:
    line = store.devices_page(search="L4").rows[0]
    row = store.device(line.id)
    assert row is not None
    assert (row.item_key, row.mpxn, row.verdict) == ("item4", MPXN, "FAULT")
    assert [m.name for m in row.measurements] == ["supply current", "firmware"]
    assert row == next(r for r in store.results() if r.id == line.id)  # what a report reads
    assert store.device(99_999) is None
    assert store.campaign(99_999) is None


def test_campaign_summaries(store: ResultStore) -> None:
    page = store.campaigns_page(1, 1)
    assert [c.batch_name for c in page.rows] == ["week-2.csv"] and page.pages == 2
    one = store.campaign(1)
    assert one is not None and one.finished is not None and one.bench == "b1"
    assert store.verdict_counts(1) == {"NO_FAULT_FOUND": 3, "FAULT": 2, "INCONCLUSIVE": 2}
    assert store.verdict_counts(99_999) == {}
    running = store.in_progress()
    assert [(p.campaign.id, p.devices) for p in running] == [(2, 2)]
    assert running[0].last_result == "2024-03-01 09:00:11"
    figures = store.campaign_rfi(1).total
    assert (figures.returned, figures.fault, figures.inconclusive) == (7, 2, 2)
