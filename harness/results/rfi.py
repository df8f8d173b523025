"""The RFI figures: what the industry was asked for about returned devices in a period.

GB-SMART-METERING.md, "Why triage exists": the numbers of returned CHs, electricity and gas
meters in a period, how many needed resetting, how many were found to have no fault (plus,
for our report, faults by category), SMETS1 and SMETS2 apart (``by_generation``). A pure
function over result rows, so it is tested against a hand-made set and can run over any
source of rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

GROUPS: dict[str, str] = {"CHF": "Communications Hubs", "ESME": "Electricity meters",
                          "GSME": "Gas meters"}
"""RFI group per device type: a CH is counted by its CHF; any other type is ``OTHER``."""
OTHER = "Other devices"
NOT_TRIAGED = ("SKIPPED", "ABORTED")
"""Verdicts of devices the operator never let the triage start on."""
NOT_A_VERDICT = ("INTERRUPTED",)
"""Stored states that are no verdict at all: an interrupted device is triaged again on resume,
so it is not counted (its result, once it has one, is)."""
ORDER = (*GROUPS.values(), OTHER)
UNKNOWN_GENERATION = "generation not recorded"
"""Where a result without a generation (slot mode, an older database) is counted."""
GENERATIONS = ("SMETS1", "SMETS2", UNKNOWN_GENERATION)


class ResultLike(Protocol):
    """What the figures read of a device result (``store.DeviceRow`` has it); read-only, so
    frozen dataclasses qualify."""

    @property
    def device_type(self) -> str: ...

    @property
    def verdict(self) -> str: ...

    @property
    def category(self) -> str | None: ...

    @property
    def reset(self) -> bool: ...


@dataclass
class GroupFigures:
    """The figures for one group of device types."""

    returned: int = 0
    reset_done: int = 0  # the triage reset the device, whatever its verdict (the terminal's)
    needed_reset: int = 0  # reset to be reused: reset done and not found faulty (the RFI's)
    no_fault_found: int = 0
    fault: int = 0
    inconclusive: int = 0
    not_triaged: int = 0  # returned, but skipped by the operator or left at an abort
    faults_by_category: Counter[str] = field(default_factory=Counter)

    def add(self, row: ResultLike) -> None:
        """Count one device."""
        self.returned += 1
        self.reset_done += bool(row.reset)
        # Reset to be reused (SECMP0010: "reset it ... so it can be reused"): a device reset
        # whose fault showed only afterwards is not reusable, so it did not "need" resetting.
        self.needed_reset += bool(row.reset) and row.verdict != "FAULT"
        if row.verdict == "NO_FAULT_FOUND":
            self.no_fault_found += 1
        elif row.verdict == "FAULT":
            self.fault += 1
            self.faults_by_category[row.category or "unclassified"] += 1
        elif row.verdict in NOT_TRIAGED:
            self.not_triaged += 1
        else:
            self.inconclusive += 1

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: the RFI's figures (``reset_done`` is the bench's count, not the RFI's:
        ground truth cannot say whether a fault shows before or after the reset)."""
        return {"returned": self.returned, "needed_reset": self.needed_reset,
                "no_fault_found": self.no_fault_found, "fault": self.fault,
                "inconclusive": self.inconclusive, "not_triaged": self.not_triaged,
                "faults_by_category": dict(sorted(self.faults_by_category.items()))}


@dataclass
class RfiFigures:
    """RFI figures per group (only groups with devices) and in total."""

    groups: dict[str, GroupFigures]
    total: GroupFigures
    # generation -> group -> figures (only generations and groups with devices)
    by_generation: dict[str, dict[str, GroupFigures]] = field(default_factory=dict)

    @property
    def faults_by_category(self) -> Counter[str]:
        """Faults by category over every group."""
        return self.total.faults_by_category

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"groups": {k: v.as_dict() for k, v in self.groups.items()},
                "total": self.total.as_dict(),
                "by_generation": {gen: {k: v.as_dict() for k, v in groups.items()}
                                  for gen, groups in self.by_generation.items()}}


def group_of(device_type: str) -> str:
    """The RFI group a device type is counted in."""
    return GROUPS.get(device_type.upper(), OTHER)


def device_identity(row: ResultLike) -> str | None:
    """Who a result is about, across campaigns: its EUI-64, else its label; None when it has
    neither (then it can only be counted as a device of its own)."""
    for name in ("device_id", "label_id"):
        value = getattr(row, name, None)
        if value:
            return f"{name}:{str(value).upper()}"
    return None


def latest_per_device(rows: Iterable[ResultLike]) -> list[ResultLike]:
    """Each device's latest verdict, in the order given (oldest first, as the store returns
    them): a device triaged twice in a period (a campaign run again) is counted once."""
    latest: dict[str, int] = {}
    kept: list[ResultLike] = []
    for row in rows:
        if row.verdict in NOT_A_VERDICT:
            continue
        who = device_identity(row)
        if who is not None and who in latest:
            kept[latest[who]] = row  # the later result replaces the earlier one in place
            continue
        if who is not None:
            latest[who] = len(kept)
        kept.append(row)
    return kept


def rfi_figures(rows: Iterable[ResultLike]) -> RfiFigures:
    """Count returned devices, resets, no-fault-found and faults by category per group, and
    per generation and group (a row's ``generation`` attribute, where it has one).

    Each returned device is counted once, by its latest result (``latest_per_device``); the
    earlier results stay in the store and on the report's device pages. "Needed resetting"
    counts devices reset to be reused: reset done and not found faulty. An interrupted device
    (no verdict yet) is not counted.
    """
    groups: dict[str, GroupFigures] = {}
    generations: dict[str, dict[str, GroupFigures]] = {}
    total = GroupFigures()
    for row in latest_per_device(rows):
        group = group_of(row.device_type)
        groups.setdefault(group, GroupFigures()).add(row)
        generation = getattr(row, "generation", None) or UNKNOWN_GENERATION
        generations.setdefault(generation, {}).setdefault(group, GroupFigures()).add(row)
        total.add(row)
    ordered = {name: groups[name] for name in ORDER if name in groups}
    by_generation = {gen: {name: generations[gen][name] for name in ORDER
                           if name in generations[gen]}
                     for gen in sorted(generations, key=lambda g: (
                         GENERATIONS.index(g) if g in GENERATIONS else len(GENERATIONS), g))}
    return RfiFigures(ordered, total, by_generation)
