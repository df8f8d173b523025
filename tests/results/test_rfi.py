"""The RFI figures against a hand-made set of results."""

from __future__ import annotations

from dataclasses import dataclass

from harness.results.rfi import OTHER, rfi_figures


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
