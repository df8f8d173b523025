"""Alerts judged in context: what a removal, a brown-out or a change of supplier leaves behind.

A returned device's logs hold what its field history wrote (GB-SMART-METERING.md, "Returns in
the real world"): a terminal cover opened at removal, supply losses, brown-out resets, an
authentication failure during a change of supplier. The spec's alert table marks such codes
with ``excused_by`` and TRI-DIAG-02/03/04 state the windows and rates; this module applies
exactly those figures, read from the spec, so the text and the code say one thing. Pure: no
I/O, tested on log records.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from harness.devices.records import LogRecord
from harness.protocols.gbcs_alerts import GbcsAlert
from harness.triage.spec import TriageSpec, default_spec

__all__ = ["LogJudgement", "installer_flags", "judge_alerts", "removal_time"]

SUPPLY_LOSS = frozenset({GbcsAlert.SUPPLY_INTERRUPTED, GbcsAlert.GSME_POWER_SUPPLY_LOSS})
SUPPLY_RESTORED = frozenset({GbcsAlert.SUPPLY_OUTAGE_RESTORED,
                             GbcsAlert.SUPPLY_OUTAGE_RESTORED_ALT})
SUPPLY_EVENTS = SUPPLY_LOSS | SUPPLY_RESTORED
"""The supply events a brown-out reset sits beside (TRI-DIAG-02)."""


@dataclass
class LogJudgement:
    """Fault codes by category (held against the device) and the codes excused, with why."""

    faults: dict[str, list[str]] = field(default_factory=dict)
    excused: list[tuple[int, str]] = field(default_factory=list)  # (code, why)

    def codes(self, categories: Iterable[str]) -> list[str]:
        """The fault codes in ``categories``, sorted."""
        return sorted(c for cat in categories for c in self.faults.get(cat, ()))

    def excused_in(self, categories: Iterable[str], spec: TriageSpec | None = None
                   ) -> list[str]:
        """The excused codes whose alert rule points to one of ``categories``, with why."""
        spec = spec or default_spec()
        wanted = set(categories)
        return [why for code, why in self.excused
                if str(getattr(spec.alert_rule(code), "category", None)) in wanted]


def removal_time(entries: Sequence[LogRecord]) -> datetime.datetime | None:
    """When the device was taken off the wall, by its own clock (TRI-DIAG-03): the last
    supply loss a "supply outage restored" follows, else the last supply loss; None when
    the logs hold no supply loss (then nothing is excused by a removal)."""
    ordered = sorted(entries, key=lambda e: e.timestamp)
    losses = [e for e in ordered if e.code in SUPPLY_LOSS]
    if not losses:
        return None
    restored = [e.timestamp for e in ordered if e.code in SUPPLY_RESTORED]
    followed = [e for e in losses if any(t >= e.timestamp for t in restored)]
    return (followed or losses)[-1].timestamp


def _near(t: datetime.datetime, others: Iterable[datetime.datetime], seconds: float) -> bool:
    return any(abs((t - o).total_seconds()) <= seconds for o in others)


def judge_alerts(entries: Sequence[LogRecord], *, spec: TriageSpec | None = None
                 ) -> LogJudgement:
    """Every fault code in ``entries`` (both logs) by its category, except those its context
    excuses, with the windows and rates TRI-DIAG-02 and TRI-DIAG-03 state."""
    spec = spec or default_spec()
    diag2, diag3 = spec.clause("TRI-DIAG-02"), spec.clause("TRI-DIAG-03")
    removal = removal_time(entries)
    window = datetime.timedelta(days=diag3.number("removal_window_days"))
    supply_times = [e.timestamp for e in entries if e.code in SUPPLY_EVENTS]
    credential_times = [e.timestamp for e in entries
                        if e.code == GbcsAlert.UPDATE_SECURITY_CREDENTIALS]
    judgement = LogJudgement()
    # (context, rule's limit) -> entries the context would excuse, kept to apply the rate
    pending: dict[str, list[LogRecord]] = {"supply": [], "credentials": []}
    for entry in sorted(entries, key=lambda e: e.timestamp):
        rule = spec.alert_rule(entry.code)
        if rule is None or not rule.fault or rule.category is None:
            continue
        code = f"0x{entry.code_hex}"
        if rule.excused_by == "removal" and removal is not None \
                and removal - window <= entry.timestamp <= removal:
            judgement.excused.append(
                (entry.code, f"{code}: within {window.days} days before the removal"))
            continue
        if rule.excused_by == "supply" and _near(entry.timestamp, supply_times,
                                                 diag2.number("brownout_window_s")):
            pending["supply"].append(entry)
            continue
        if rule.excused_by == "credentials" and _near(
                entry.timestamp, credential_times,
                diag3.number("credential_window_days") * 86400.0):
            pending["credentials"].append(entry)
            continue
        judgement.faults.setdefault(str(rule.category), []).append(code)
    rates = {"supply": (diag2.number("brownout_resets_max"), "brown-out reset"),
             "credentials": (diag3.number("credential_failures_max"),
                             "change of supplier's authentication failure")}
    for context, held in pending.items():
        limit, what = rates[context]
        if len(held) <= limit:
            judgement.excused += [(e.code, f"0x{e.code_hex}: a {what} ({len(held)} of at "
                                           f"most {limit:g})") for e in held]
            continue
        for e in held:  # beyond the stated rate: every one is held against the device
            rule = spec.alert_rule(e.code)
            assert rule is not None and rule.category is not None
            judgement.faults.setdefault(str(rule.category), []).append(f"0x{e.code_hex}")
    return judgement


def installer_flags(flags: Iterable[str], entries: Sequence[LogRecord], *,
                    spec: TriageSpec | None = None) -> tuple[list[str], list[str]]:
    """Split tamper ``flags`` into (held, the installer's) as TRI-DIAG-04 states: a flag in
    its ``installer_flags`` is the installer's only when a terminal cover alert (0x8F76)
    lies in TRI-DIAG-03's removal window."""
    spec = spec or default_spec()
    allowed = spec.clause("TRI-DIAG-04").parameter("installer_flags")
    allowed = (allowed,) if isinstance(allowed, str) else tuple(map(str, allowed)) \
        if isinstance(allowed, tuple) else ()
    removal = removal_time(entries)
    window = datetime.timedelta(days=spec.clause("TRI-DIAG-03").number("removal_window_days"))
    in_context = removal is not None and any(
        e.code == GbcsAlert.UNAUTHORISED_PHYSICAL_ACCESS_TERMINAL_COVER
        and removal - window <= e.timestamp <= removal for e in entries)
    held = sorted(f for f in flags if not (f in allowed and in_context))
    return held, sorted(set(flags) - set(held))
