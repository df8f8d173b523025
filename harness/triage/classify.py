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

For a Communications Hub a FAULT carries the DUIS 8.14.3 return reason the deciding finding's
clause names (``TriageSpec.ch_return_reason``: the failing measurement's, else the clause's,
else the category's; GB-SMART-METERING.md, "Communications Hub returns vocabulary"). The
deciding finding is the first of the winning category in the specification's clause order.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from harness.domain.vocabulary import (
    CH_RETURN_REASON,
    PRECEDENCE,
    category_of,
)
from harness.triage.record import Finding, TriageRecord
from harness.triage.spec import default_spec

__all__ = ["CH_RETURN_REASON", "PRECEDENCE", "RESET_STEPS", "VERIFY_STEPS", "Verdict",
           "VerdictKind", "category_of", "classify", "deciding_finding", "hub_return_reason"]

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


def deciding_finding(record: TriageRecord, category: str) -> Finding:
    """The finding of ``category`` that decides a hub's return reason: the first in the
    specification's clause order (a clause the spec does not know last), then as recorded."""
    order = {c: i for i, c in enumerate(default_spec().clause_ids)}
    ranked = sorted(enumerate(record.findings_in(category)),
                    key=lambda pair: (order.get(pair[1].clause, len(order)), pair[0]))
    if not ranked:
        raise ValueError(f"no finding in category {category!r}")
    return ranked[0][1]


def hub_return_reason(record: TriageRecord, category: str) -> str | None:
    """The DUIS 8.14.3 reason (as the domain words it) for a hub FAULT in ``category``: the
    one the deciding finding's clause names, else the category's (None: no hub reason)."""
    finding = deciding_finding(record, category)
    reason = default_spec().ch_return_reason(category, finding.clause, finding.measurement)
    return reason.value if reason is not None else None


def classify(record: TriageRecord) -> Verdict:
    """The verdict the record's evidence supports (rules in the module docstring)."""
    reset = all(step in record.reset_steps for step in RESET_STEPS
                if _applies(step, record.device_type) and step not in record.not_applicable)
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
        reason = hub_return_reason(record, category) if record.device_type == "CHF" else None
        return Verdict(VerdictKind.FAULT, category, reason, evidence, reset=reset)
    if record.refused:
        return Verdict(VerdictKind.INCONCLUSIVE, why=f"no fault found, but role {record.role!r} "
                       f"may not run {', '.join(record.refused)}: not reset", reset=False)
    if not reset:
        missing = [s for s in RESET_STEPS if s not in record.reset_steps
                   and _applies(s, record.device_type) and s not in record.not_applicable]
        return Verdict(VerdictKind.INCONCLUSIVE, why=f"no fault found, reset incomplete "
                       f"({', '.join(missing)} not done)", reset=False)
    required = [s for s in VERIFY_STEPS
                if _applies(s, record.device_type) and s not in record.not_applicable]
    if record.verify_failures or not all(s in record.verified for s in required):
        failed = record.verify_failures or [f"{s} not done" for s in required
                                            if s not in record.verified]
        return Verdict(VerdictKind.INCONCLUSIVE, why="reset not verified: " + "; ".join(failed),
                       reset=True)
    return Verdict(VerdictKind.NO_FAULT_FOUND, why="every check passed; reset and verified",
                   reset=True)
