"""Fault categories, their precedence and the hub return reasons: one source for the
classifier and the emulator's ground truth."""

from __future__ import annotations

import itertools

import pytest

from harness.domain.vocabulary import (
    PRECEDENCE,
    ChFaultReason,
    FaultCategory,
    category_of,
    ch_return_reason,
)


def test_every_fault_category_has_a_rank() -> None:
    assert set(PRECEDENCE) == set(FaultCategory) - {FaultCategory.NONE}
    assert len(PRECEDENCE) == len(set(PRECEDENCE))


@pytest.mark.parametrize(("first", "second"), list(itertools.pairwise(PRECEDENCE)))
def test_the_cause_wins_over_its_consequence(first: FaultCategory, second: FaultCategory) -> None:
    assert category_of({second.value, first.value}) == first.value
    assert category_of([second, first]) == first.value


def test_an_unknown_category_ranks_last_and_none_is_an_error() -> None:
    assert category_of({"zzz", "WAN"}) == "WAN"
    assert category_of({"zzz", "aaa"}) == "aaa"
    with pytest.raises(ValueError, match="at least one"):
        category_of(set())


def test_a_hub_return_reason_is_a_duis_reason_or_none() -> None:
    assert ch_return_reason("HAN") is ChFaultReason.SM_HAN
    assert ch_return_reason(FaultCategory.TAMPER) is ChFaultReason.INTERFERENCE_OR_SEALS
    assert ch_return_reason("metrology") is None and ch_return_reason("unknown") is None


def test_the_classifier_and_the_emulator_rank_with_the_same_code() -> None:
    from harness.domain import vocabulary
    from harness.emulator.world import population
    from harness.triage import classify

    assert classify.PRECEDENCE is vocabulary.PRECEDENCE
    assert classify.category_of is population.category_of is vocabulary.category_of
