"""The triage vocabulary shared by the specification, the classifier, the suites and the
emulator: fault categories, their precedence, and the Communications Hub return reasons of
DUIS 8.14.3 with the reason each category is returned under.

Kept apart from the emulator so the triage specification does not depend on the thing that
imitates devices (GB-SMART-METERING.md, "Communications Hub returns vocabulary").
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

__all__ = ["CH_RETURN_REASON", "NO_FAULT", "PRECEDENCE", "ChFaultReason", "FaultCategory",
           "category_of", "ch_return_reason"]

NO_FAULT = "no_fault"
"""What a device with nothing wrong carries as its fault (bench files, manifests' truth)."""


class FaultCategory(StrEnum):
    """The triage category a fault belongs to (the verdict's category when it is a FAULT)."""

    NONE = "none"
    HAN = "HAN"
    WAN = "WAN"
    METROLOGY = "metrology"
    FIRMWARE = "firmware"
    HARDWARE = "hardware"
    POWER = "power"
    TAMPER = "tamper/physical"
    OPTICAL = "optical port"


class ChFaultReason(StrEnum):
    """DUIS 8.14.3 CHFFaultReason vocabulary."""

    DAMAGED_CASE = "damaged case"
    DAMAGED_CONNECTOR = "damaged connector"
    INTERFERENCE_OR_SEALS = "illegal interference or missing seals"
    ENVIRONMENTAL = "environmental conditions exceeded"
    SM_WAN = "fault with SM WAN"
    SM_HAN = "fault with SM HAN interface"
    LED = "fault with LED"
    AERIAL = "fault with aerial"
    MANUFACTURING = "manufacturing defect"


PRECEDENCE: tuple[FaultCategory, ...] = (
    FaultCategory.TAMPER, FaultCategory.HARDWARE, FaultCategory.FIRMWARE,
    FaultCategory.METROLOGY, FaultCategory.POWER, FaultCategory.OPTICAL, FaultCategory.HAN,
    FaultCategory.WAN,
)
"""Fault categories, strongest cause first: a cause before its consequences (a tampered or
broken device fails everything else; failed firmware refuses HAN joins; a dead optical port
hides every other reading)."""

CH_RETURN_REASON: dict[FaultCategory, ChFaultReason] = {
    FaultCategory.TAMPER: ChFaultReason.INTERFERENCE_OR_SEALS,
    FaultCategory.HARDWARE: ChFaultReason.MANUFACTURING,
    FaultCategory.FIRMWARE: ChFaultReason.MANUFACTURING,
    FaultCategory.POWER: ChFaultReason.MANUFACTURING,
    FaultCategory.HAN: ChFaultReason.SM_HAN,
    FaultCategory.WAN: ChFaultReason.SM_WAN,
}
"""The DUIS 8.14.3 CHFFaultReason a hub found faulty in a category is returned under
(metrology and optical port do not apply to a CH)."""


def ch_return_reason(category: str) -> ChFaultReason | None:
    """The return reason of a hub found faulty in ``category`` (its value or member); None
    for a category no hub is returned under (or one this vocabulary does not know)."""
    known = {c.value: reason for c, reason in CH_RETURN_REASON.items()}
    return known.get(str(category))


def category_of(categories: Iterable[str]) -> str:
    """The category that wins among several, by :data:`PRECEDENCE` (unknown ones rank last,
    alphabetically); the categories are given as their values (``"HAN"``) or members."""
    ranked = sorted({str(c) for c in categories}, key=lambda c: (_RANK.get(c, len(_RANK)), c))
    if not ranked:
        raise ValueError("category_of needs at least one category")
    return ranked[0]


_RANK = {c.value: rank for rank, c in enumerate(PRECEDENCE)}
