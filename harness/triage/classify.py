"""The verdict: a documented function of the evidence in a triage record.

1. Anything that went wrong on the bench (an instrument error, an operator abort) makes the
   verdict INCONCLUSIVE, with why: a bench fault must never be charged to a device.
2. Otherwise any finding makes it FAULT. When findings point to several categories, the one
   earliest in :data:`PRECEDENCE` (``harness.domain.vocabulary``, shared with the emulator's
   ground truth) wins: a cause before its consequences (a tampered or
   broken device fails everything else; failed firmware refuses HAN joins; a dead optical
   port hides every other reading). The other categories found are named after the
   evidence ("also found: ..."), and every finding stays in the record.
3. With no finding, the device is NO FAULT FOUND only once it has been reset and the reset
   verified by read-back; a reset the role may not run, or a verification that failed,
   leaves it INCONCLUSIVE with why.

For a Communications Hub a FAULT carries the DUIS 8.14.3 return reason for its category
(GB-SMART-METERING.md, "Communications Hub returns vocabulary").
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from harness.domain.vocabulary import (
    CH_RETURN_REASON,
    PRECEDENCE,
    category_of,
    ch_return_reason,
)
from harness.triage.record import TriageRecord
from harness.triage.spec import default_spec

__all__ = ["CH_RETURN_REASON", "PRECEDENCE", "RESET_STEPS", "VERIFY_STEPS", "Verdict",
           "VerdictKind", "category_of", "classify"]

RESET_STEPS = ("TRI-RST-01", "TRI-RST-02", "TRI-RST-03", "TRI-RST-04")
VERIFY_STEPS = ("TRI-VER-01", "TRI-VER-02", "TRI-VER-03")


class VerdictKind(StrEnum):
    """The three ways a triage ends."""

    NO_FAULT_FOUND = "NO_FAULT_FOUND"
    FAULT = "FAULT"
    INCONCLUSIVE = "INCONCLUSIVE"
    SKIPPED = "SKIPPED"  # the operator skipped the device (or did not answer in time)
    ABORTED = "ABORTED"  # the operator aborted the campaign at this device
    INTERRUPTED = "INTERRUPTED"  # the run was stopped mid-triage: not a verdict, redone on resume


@dataclass(frozen=True)
class Verdict:
    """The outcome for one device, with the reason in words."""

    kind: VerdictKind
    category: str | None = None
    duis_return_reason: str | None = None
    why: str = ""
    reset: bool = False

    def as_dict(self) -> dict[str, object]:
        """JSON-ready."""
        return {"verdict": self.kind.value, "category": self.category,
                "duis_return_reason": self.duis_return_reason, "why": self.why,
                "reset": self.reset}


def _applies(clause: str, device_type: str) -> bool:
    """Whether a spec clause applies to a device type (the spec's ``applies_to``)."""
    return default_spec().clause(clause).applies(device_type)


def classify(record: TriageRecord) -> Verdict:
    """The verdict the record's evidence supports (rules in the module docstring)."""
    reset = all(step in record.reset_steps for step in RESET_STEPS
                if _applies(step, record.device_type))
    outcome = record.notes.get("operator_outcome")
    if outcome:  # never triaged: what the operator said is the whole story
        kind = VerdictKind.ABORTED if outcome["answer"] == "abort" else VerdictKind.SKIPPED
        return Verdict(kind, why=outcome["why"])
    if record.bench_errors:
        return Verdict(VerdictKind.INCONCLUSIVE, why="bench: " + "; ".join(record.bench_errors),
                       reset=reset)
    if record.findings:
        category = category_of({f.category for f in record.findings})
        evidence = "; ".join(f"{f.clause}: {f.evidence}" for f in record.findings
                             if f.category == category)
        others = sorted({f"{f.category} ({f.clause})" for f in record.findings
                         if f.category != category})
        if others:  # precedence picks the category; every finding stays in the verdict
            evidence += "; also found: " + ", ".join(others)
        returned = ch_return_reason(category) if record.device_type == "CHF" else None
        reason = returned.value if returned is not None else None
        return Verdict(VerdictKind.FAULT, category, reason, evidence, reset=reset)
    if record.refused:
        return Verdict(VerdictKind.INCONCLUSIVE, why=f"no fault found, but role {record.role!r} "
                       f"may not run {', '.join(record.refused)}: not reset", reset=False)
    if not reset:
        missing = [s for s in RESET_STEPS
                   if s not in record.reset_steps and _applies(s, record.device_type)]
        return Verdict(VerdictKind.INCONCLUSIVE, why=f"no fault found, reset incomplete "
                       f"({', '.join(missing)} not done)", reset=False)
    required = [s for s in VERIFY_STEPS if _applies(s, record.device_type)]
    if record.verify_failures or not all(s in record.verified for s in required):
        failed = record.verify_failures or [f"{s} not done" for s in required
                                            if s not in record.verified]
        return Verdict(VerdictKind.INCONCLUSIVE, why="reset not verified: " + "; ".join(failed),
                       reset=True)
    return Verdict(VerdictKind.NO_FAULT_FOUND, why="every check passed; reset and verified",
                   reset=True)
