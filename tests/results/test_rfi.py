"""The RFI figures against a hand-made set of results."""

from __future__ import annotations

from dataclasses import dataclass

from harness.results.rfi import OTHER, latest_per_device, rfi_figures


@dataclass
class Row:
    device_type: str
    verdict: str
    category: str | None = None
    reset: bool = False


ROWS = [
    Row("CHF", "NO_FAULT_FOUND", reset=True),
    Row("CHF", "NO_FAULT_FOUND", reset=True),
    Row("CHF", "FAULT", "HAN"),
    Row("CHF", "FAULT", "WAN"),
    Row("CHF", "INCONCLUSIVE"),
    Row("ESME", "FAULT", "metrology"),
    Row("ESME", "NO_FAULT_FOUND", reset=True),
    Row("ESME", "INCONCLUSIVE", reset=True),  # reset done, verification failed
    Row("GSME", "FAULT", "HAN", reset=True),  # its fault showed only after the reset
    Row("PPMID", "FAULT", None),
    Row("ESME", "SKIPPED"),  # the operator skipped it: returned, never triaged
]


def test_figures_per_type() -> None:
    figures = rfi_figures(ROWS)
    assert list(figures.groups) == ["Communications Hubs", "Electricity meters", "Gas meters",
                                    OTHER]
    ch = figures.groups["Communications Hubs"]
    assert (ch.returned, ch.needed_reset, ch.no_fault_found, ch.fault, ch.inconclusive) == \
        (5, 2, 2, 2, 1)
    esme = figures.groups["Electricity meters"]
    assert (esme.returned, esme.needed_reset, esme.no_fault_found, esme.fault,
            esme.inconclusive, esme.not_triaged) == (4, 2, 1, 1, 1, 1)
    gsme = figures.groups["Gas meters"]
    assert (gsme.returned, gsme.needed_reset, gsme.no_fault_found, gsme.fault) == (1, 0, 0, 1)
    assert figures.groups[OTHER].faults_by_category == {"unclassified": 1}


def test_totals_and_categories() -> None:
    figures = rfi_figures(ROWS)
    total = figures.total
    assert (total.returned, total.needed_reset, total.no_fault_found, total.fault,
            total.inconclusive, total.not_triaged) == (11, 4, 3, 5, 2, 1)
    assert figures.faults_by_category == {"HAN": 2, "WAN": 1, "metrology": 1, "unclassified": 1}
    data = figures.as_dict()
    assert data["total"]["faults_by_category"]["HAN"] == 2
    assert data["groups"]["Gas meters"]["returned"] == 1


def test_no_rows() -> None:
    figures = rfi_figures([])
    assert figures.groups == {} and figures.total.returned == 0


@dataclass
class Seen:
    device_type: str
    verdict: str
    device_id: str | None
    category: str | None = None
    reset: bool = False
    label_id: str | None = None


def test_a_device_triaged_twice_is_counted_once_by_its_latest_result() -> None:
    rows = [Seen("ESME", "INCONCLUSIVE", "00DB12F5F07F9EEF"),
            Seen("GSME", "FAULT", "00DB22B8CF7BB77F", "HAN"),
            Seen("ESME", "NO_FAULT_FOUND", "00db12f5f07f9eef", reset=True),  # run again
            Seen("ESME", "INTERRUPTED", "00DB12F5F07F9EEF"),  # no verdict: hides nothing
            Seen("CHF", "FAULT", None, "WAN", label_id="CH1"),
            Seen("CHF", "NO_FAULT_FOUND", None, label_id="CH1", reset=True),
            Seen("CHF", "NO_FAULT_FOUND", None), Seen("CHF", "NO_FAULT_FOUND", None)]
    total = rfi_figures(rows).total
    # 20 results for 10 devices was "Returned 40": each device once, as it last ended.
    assert (total.returned, total.no_fault_found, total.fault, total.inconclusive,
            total.needed_reset) == (5, 4, 1, 0, 2)
    assert [r.verdict for r in latest_per_device(rows)][:2] == ["NO_FAULT_FOUND", "FAULT"]
