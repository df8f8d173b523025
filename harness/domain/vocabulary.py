"""The triage vocabulary shared by the specification, the suites and the emulator: fault
categories and the Communications Hub return reasons of DUIS 8.14.3.

Kept apart from the emulator so the triage specification does not depend on the thing that
imitates devices (GB-SMART-METERING.md, "Communications Hub returns vocabulary").
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["NO_FAULT", "ChFaultReason", "FaultCategory"]

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
