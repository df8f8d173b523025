"""The classification, on its own: evidence in, verdict out, by the documented rules."""

from __future__ import annotations

import itertools

import pytest

from harness.triage.classify import (
    PRECEDENCE,
    RESET_STEPS,
    VERIFY_STEPS,
    VerdictKind,
    category_of,
    classify,
)
from harness.triage.record import Measurement, TriageRecord


def record(device_type: str = "ESME") -> TriageRecord:
    return TriageRecord(key="item1", slot="esme", device_type=device_type, role="supplier")


def reset_and_verified(r: TriageRecord) -> TriageRecord:
    r.reset_steps.extend(RESET_STEPS)
    r.verified.extend(VERIFY_STEPS)
    return r


def test_clean_reset_and_verified_is_no_fault_found() -> None:
    verdict = classify(reset_and_verified(record()))
    assert verdict.kind is VerdictKind.NO_FAULT_FOUND and verdict.reset


def test_a_finding_is_a_fault_with_its_category() -> None:
    r = record()
    r.find("TRI-PWR-02", "power", "standby current 0.21 A above 0.05 A")
    verdict = classify(r)
    assert (verdict.kind, verdict.category) == (VerdictKind.FAULT, "power")
    assert "0.21 A" in verdict.why and verdict.duis_return_reason is None


@pytest.mark.parametrize(("first", "second"), list(itertools.pairwise(PRECEDENCE)))
def test_the_cause_wins_over_its_consequence(first: str, second: str) -> None:
    assert category_of({second, first}) == first


def test_firmware_failure_beats_the_han_join_it_causes() -> None:
    r = record()
    r.find("TRI-HAN-02", "HAN", "no join")
    r.find("TRI-DIAG-03", "firmware", "0x8F1B")
    assert classify(r).category == "firmware"


def test_a_hub_fault_carries_its_duis_return_reason() -> None:
    r = record("CHF")
    r.find("TRI-WAN-02", "WAN", "no SIM")
    assert classify(r).duis_return_reason == "fault with SM WAN"


def test_bench_trouble_is_never_charged_to_the_device() -> None:
    r = record()
    r.find("TRI-PWR-01", "power", "no current")
    r.bench_errors.append("psu: no answer to MEAS:CURR?")
    verdict = classify(r)
    assert verdict.kind is VerdictKind.INCONCLUSIVE and "psu" in verdict.why


def test_no_fault_but_reset_refused_is_inconclusive() -> None:
    r = record()
    r.role = "rsa"
    r.refused.extend(RESET_STEPS)
    verdict = classify(r)
    assert verdict.kind is VerdictKind.INCONCLUSIVE and "rsa" in verdict.why
    assert not verdict.reset


def test_unverified_reset_is_inconclusive() -> None:
    r = record()
    r.reset_steps.extend(RESET_STEPS)
    r.verified.extend(VERIFY_STEPS[:2])
    r.verify_failures.append("TRI-VER-03: did not join")
    verdict = classify(r)
    assert verdict.kind is VerdictKind.INCONCLUSIVE and "did not join" in verdict.why


def test_measurement_limits() -> None:
    assert Measurement("i", 0.01, "A", 0.002, 0.05).passed
    assert not Measurement("i", 0.2, "A", 0.002, 0.05).passed
    assert not Measurement("i", None, "A", 0.0, 1.0).passed
    assert Measurement("id", "X", expected="X").passed
    assert "FAIL" in Measurement("i", 0.2, "A", 0.002, 0.05, "TRI-PWR-02").describe()
