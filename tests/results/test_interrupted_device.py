"""An interrupted device is stored so it can be seen, but it is no verdict: not done (a resumed
campaign triages it again), not in the RFI figures, and replaced by its real result."""

from __future__ import annotations

from pathlib import Path

from _results_sample import sample

from harness.results.rfi import rfi_figures
from harness.results.store import INTERRUPTED, ResultStore
from harness.triage.classify import Verdict, VerdictKind


def test_interrupted_device_is_visible_not_done_and_replaced_by_its_result(
        tmp_path: Path) -> None:
    store = ResultStore.open(f"sqlite:///{tmp_path / 'r.db'}", create=True)
    campaign = store.start_campaign(bench="b", operator="ann", role="Supplier", batch_name="x")
    done_record, done_verdict = sample(0)
    store.record(campaign, done_record, done_verdict)
    record, truth = sample(1)  # its truth is FAULT/HAN
    assert truth.kind is VerdictKind.FAULT
    cut = Verdict(VerdictKind.INTERRUPTED, why="triage interrupted at test_reset")
    assert store.record(campaign, record, cut)

    rows = store.results(campaign_id=campaign)
    assert {r.item_key: r.verdict for r in rows} == {"item0": "NO_FAULT_FOUND",
                                                     "item1": INTERRUPTED}
    assert store.done_items(campaign) == {"item0"}  # item1 is triaged again on resume
    assert store.interrupted_items(campaign) == {"item1"}
    figures = rfi_figures(rows)
    assert figures.total.returned == 1 and figures.total.inconclusive == 0

    assert store.record(campaign, record, truth)  # re-triaged: its result replaces the row
    rows = store.results(campaign_id=campaign)
    assert sorted((r.item_key, r.verdict) for r in rows) == [("item0", "NO_FAULT_FOUND"),
                                                            ("item1", "FAULT")]
    assert store.count(campaign) == 2
    assert store.done_items(campaign) == {"item0", "item1"}
    assert not store.interrupted_items(campaign)
    assert len(next(r for r in rows if r.item_key == "item1").measurements) == 2  # not doubled
    figures = rfi_figures(rows)
    assert figures.total.returned == 2 and figures.total.fault == 1
    assert not store.record(campaign, record, cut)  # a real result is never overwritten
