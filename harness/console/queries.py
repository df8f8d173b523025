"""The console's reads: the results store's and the audit log's own paged reads, a page at a
time, with the page number as a request gives it.

Every list comes from a public read of the store (``ResultStore.devices_page``,
``campaigns_page``, ``device`` ...; see ``harness.results.browse``) or of the audit log
(``AuditLog.entries_page``): the console never reads their tables itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.results.browse import PAGE_SIZE, Page
from harness.triage.audit import AuditLog


def page_number(text: str | None) -> int:
    """A ``page`` query parameter as a page number (bad or missing: the first page)."""
    try:
        return max(1, int(text or 1))
    except ValueError:
        return 1


@dataclass(frozen=True)
class AuditLine:
    """An audit entry as the trail shows it."""

    seq: int
    at: str
    operator: str
    role: str
    bench: str
    device_id: str | None
    clause: str | None
    action: str
    outcome: str
    detail: dict[str, Any]


def audit_page(log: AuditLog, number: int, *, operator: str | None = None) -> Page[AuditLine]:
    """Audit entries, newest first, one page (of one operator's, if given); an empty page
    where the database holds no audit log."""
    total, entries = log.entries_page((number - 1) * PAGE_SIZE, PAGE_SIZE, operator=operator)
    return Page([AuditLine(e.seq, e.at.strftime("%Y-%m-%d %H:%M:%S"), e.operator, e.role,
                           e.bench, e.device_id, e.clause, e.action, e.outcome, e.detail)
                 for e in entries], number, total)
