"""A hub's DUIS 8.14.3 return reason is the one its deciding finding's clause names: each of
the nine CHFFaultReasons is reached, clause by clause, from findings as the suites record them."""

from __future__ import annotations

import pytest
import yaml

from harness.domain.vocabulary import ChFaultReason
from harness.errors import BenchConfigError
from harness.triage.classify import VerdictKind, classify
from harness.triage.record import TriageRecord
from harness.triage.spec import default_spec, parse_spec, spec_text
from harness.triage.spec_markdown import render_markdown

R = ChFaultReason

# (clause, category, measurement as the suite names it) -> the reason the hub is returned with
CASES: list[tuple[str, str, str | None, ChFaultReason]] = [
    ("TRI-ID-03", "hardware", "case_intact", R.DAMAGED_CASE),
    ("TRI-ID-03", "hardware", "connector_intact", R.DAMAGED_CONNECTOR),
    ("TRI-ID-03", "tamper/physical", "seals_intact", R.INTERFERENCE_OR_SEALS),
    ("TRI-ID-03", "hardware", "leds_working", R.LED),
    ("TRI-ID-03", "hardware", "no_environmental_damage", R.ENVIRONMENTAL),
    ("TRI-DIAG-03", "tamper/physical", None, R.INTERFERENCE_OR_SEALS),
    ("TRI-WAN-01", "WAN", "modem_state", R.SM_WAN),
    ("TRI-WAN-02", "WAN", "sim_present", R.SM_WAN),
    ("TRI-WAN-03", "WAN", "rssi", R.AERIAL),
    ("TRI-HAN-03", "HAN", "lqi", R.SM_HAN),
    ("TRI-VER-03", "HAN", None, R.SM_HAN),
    ("TRI-ID-01", "tamper/physical", "device_id", R.MANUFACTURING),  # label mismatch
    ("TRI-ID-02", "firmware", "firmware_version", R.MANUFACTURING),
    ("TRI-PWR-02", "power", "standby_current", R.MANUFACTURING),
    ("TRI-DIAG-02", "hardware", None, R.MANUFACTURING),
]


def hub(*findings: tuple[str, str, str | None]) -> TriageRecord:
    r = TriageRecord(key="item1", slot="ch", device_type="CHF", role="supplier")
    for clause, category, measurement in findings:
        r.find(clause, category, f"{clause} failed", measurement=measurement)
    return r


@pytest.mark.parametrize(("clause", "category", "measurement", "reason"), CASES,
                         ids=[f"{c}-{m or 'any'}" for c, _, m, _ in CASES])
def test_the_failing_clause_names_the_return_reason(clause: str, category: str,
                                                    measurement: str | None,
                                                    reason: ChFaultReason) -> None:
    verdict = classify(hub((clause, category, measurement)))
    assert (verdict.kind, verdict.category) == (VerdictKind.FAULT, category)
    assert verdict.duis_return_reason == reason.value


def test_every_reason_is_reached_by_some_clause() -> None:
    assert {reason for *_, reason in CASES} == set(ChFaultReason)
    assert set(default_spec().ch_return_reasons()) == set(ChFaultReason)


def test_a_label_mismatch_is_not_called_interference() -> None:
    verdict = classify(hub(("TRI-ID-01", "tamper/physical", "device_id")))
    assert verdict.duis_return_reason != R.INTERFERENCE_OR_SEALS.value


def test_the_first_failing_clause_in_spec_order_decides() -> None:
    """A modem that never registers also reads no signal: the modem (TRI-WAN-01) decides,
    whatever order the findings were recorded in, not the weak signal (aerial)."""
    verdict = classify(hub(("TRI-WAN-03", "WAN", "rssi"), ("TRI-WAN-01", "WAN", "modem_state")))
    assert verdict.duis_return_reason == R.SM_WAN.value


def test_the_winning_category_is_chosen_before_the_clause() -> None:
    """Broken seals (tamper) outrank a dark LED (hardware), as the precedence says."""
    verdict = classify(hub(("TRI-ID-03", "hardware", "leds_working"),
                           ("TRI-ID-03", "tamper/physical", "seals_intact")))
    assert (verdict.category, verdict.duis_return_reason) == (
        "tamper/physical", R.INTERFERENCE_OR_SEALS.value)


def test_a_finding_outside_any_clause_takes_its_category_reason() -> None:
    """The plugin charges a port error to the clause of the test it stopped ("?" if none)."""
    verdict = classify(hub(("?", "hardware", None)))
    assert verdict.duis_return_reason == R.MANUFACTURING.value


def test_a_meter_carries_no_hub_return_reason() -> None:
    r = TriageRecord(key="item1", slot="esme", device_type="ESME", role="supplier")
    r.find("TRI-DIAG-03", "tamper/physical", "0x8F3F")
    assert classify(r).duis_return_reason is None


def test_a_reason_on_a_clause_no_hub_runs_is_refused() -> None:
    data = yaml.safe_load(spec_text())
    for clause in data["clauses"]:
        if clause["id"] == "TRI-OPT-01":
            clause["ch_return_reason"] = "fault with LED"
    with pytest.raises(BenchConfigError, match="does not apply to a CHF"):
        parse_spec(data)


def test_the_document_lists_each_reason_and_what_gives_it() -> None:
    text = render_markdown(default_spec())
    section = text.split("## Hub return reasons")[1].split("\n## ")[0]
    for reason in ChFaultReason:
        assert f"| {reason.value} |" in section
    assert "| damaged case | TRI-ID-03 `case_intact` |" in section
    assert "`leds_working` failed: fault with LED" in text
