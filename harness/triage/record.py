"""A device's triage record: measurements with limits, findings, and what was done to it.

Measurements follow OpenHTF: declared with a unit and limits, recorded with their verdict, so
a report shows numbers, not just pass/fail. A finding is a failed check attributed to a
fault category; the classification (``harness.triage.classify``) reads only this record.
"""

from __future__ import annotations

import datetime
import threading
from dataclasses import dataclass, field
from typing import Any

from harness.devices.records import DeviceIdentity
from harness.triage.current_trace import CurrentTrace


@dataclass(frozen=True)
class Measurement:
    """One measured value with its limits and the clause it serves."""

    name: str
    value: float | str | bool | None
    unit: str = ""
    low: float | None = None
    high: float | None = None
    clause: str = ""
    expected: str | float | bool | None = None  # for a value that must equal something
    allowed: tuple[str, ...] | None = None  # for a value that must be one of these

    @property
    def passed(self) -> bool:
        """Inside its limits (or equal to what was expected, or one of those allowed)."""
        if self.allowed is not None:
            return self.value in self.allowed
        if self.expected is not None:
            return self.value == self.expected
        if self.value is None:
            return False
        if isinstance(self.value, bool | str):
            return True
        return ((self.low is None or self.value >= self.low)
                and (self.high is None or self.value <= self.high))

    def describe(self, *, with_clause: bool = True) -> str:
        """``CLAUSE name = value unit [low, high] PASS`` for reports (without the clause where
        the reader already has it, as in a finding)."""
        if self.allowed is not None:
            limits = f"(one of {', '.join(self.allowed)})"
        elif self.expected is not None:
            limits = f"(expected {self.expected!r})"
        else:
            limits = f"[{_short(self.low)}, {_short(self.high)}]"
        value = f"{self.value:.6g}" if isinstance(self.value, float) else repr(self.value)
        clause = f"{self.clause} " if with_clause else ""
        return (f"{clause}{self.name} = {value} {self.unit} {limits} "
                f"{'PASS' if self.passed else 'FAIL'}").replace("  ", " ")


@dataclass(frozen=True)
class Finding:
    """A check that found something wrong, and the fault category it points to."""

    clause: str
    category: str
    evidence: str
    measurement: str | None = None  # the measurement out of limits, when one decided it


@dataclass
class TriageRecord:
    """Everything a triage learned about one device, in the order it learned it."""

    key: str  # batch item ("item7") or slot name
    slot: str
    device_type: str
    label_id: str | None = None
    label_device_id: str | None = None
    operator: str = ""
    role: str = ""
    identity: DeviceIdentity | None = None
    measurements: list[Measurement] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    bench_errors: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # clauses the role may not run
    not_assessed: list[str] = field(default_factory=list)
    # Clauses that do not apply to this device (a SMETS1 meter's SMKI anchors): not needed
    # for its reset or verification, and never counted as passed.
    not_applicable: list[str] = field(default_factory=list)
    reset_steps: list[str] = field(default_factory=list)
    verified: list[str] = field(default_factory=list)
    verify_failures: list[str] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)
    # Supply current from power-on (TRI-PWR-01), where captured; stored in its own table.
    current_trace: CurrentTrace | None = None
    started: datetime.datetime = field(
        default_factory=lambda: datetime.datetime.now(datetime.UTC))
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def measure(self, m: Measurement) -> Measurement:
        """Record a measurement (whatever its verdict)."""
        with self._lock:
            self.measurements.append(m)
        return m

    def find(self, clause: str, category: str, evidence: str, *,
             measurement: str | None = None) -> None:
        """Record a finding, once per clause and category (``measurement``: the one out of
        limits that makes it, when one does)."""
        with self._lock:
            if not any(f.clause == clause and f.category == category for f in self.findings):
                self.findings.append(Finding(clause, category, evidence, measurement))

    def findings_in(self, category: str) -> list[Finding]:
        """The findings pointing to ``category``."""
        return [f for f in self.findings if f.category == category]

    @property
    def faulty(self) -> bool:
        """Whether any check found a fault so far."""
        return bool(self.findings)

    @property
    def reusable(self) -> bool:
        """Diagnostics found nothing and nothing on the bench went wrong: reset may go ahead."""
        return not self.findings and not self.bench_errors

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready evidence (no secrets: the record never holds any)."""
        return {
            "key": self.key, "slot": self.slot, "device_type": self.device_type,
            "label_id": self.label_id, "label_device_id": self.label_device_id,
            "device_id": self.identity.device_id if self.identity else None,
            "model": self.identity.model if self.identity else None,
            "operator": self.operator, "role": self.role,
            "measurements": [
                {"clause": m.clause, "name": m.name, "value": m.value, "unit": m.unit,
                 "low": m.low, "high": m.high, "expected": m.expected,
                 "allowed": m.allowed, "passed": m.passed}
                for m in self.measurements
            ],
            "findings": [f.__dict__ for f in self.findings],
            "bench_errors": list(self.bench_errors), "refused": list(self.refused),
            "not_assessed": list(self.not_assessed),
            "not_applicable": list(self.not_applicable), "reset": list(self.reset_steps),
            "verified": list(self.verified), "verify_failures": list(self.verify_failures),
        }


def _short(limit: float | None) -> str:
    """A limit as a reader wants it: six significant digits, empty when there is none."""
    return "" if limit is None else f"{limit:.6g}"
