"""Permits for destructive commands: a driver puts one on the wire only inside a live permit.

DESIGN.md principle 7 and issue 12 ("the gate fails closed"): the access gate
(``harness.triage.gate``) issues a :class:`Permit` only after it has authorised the operator's
role for the clause and committed a STARTED audit entry.  A driver calls
:func:`require_permit` right before a destructive command (an IEC 62056-21 W1 or E2, a
destructive DUIS Service Request) would leave; without a live permit for that instrument it
raises AccessDeniedError and sends nothing, so no test, fixture or user code that calls a
driver directly can put a reset on the wire.

Permits live in a context variable: a thread started inside a permitted block begins with none
(it fails closed), and a permit dies when its block ends.  This closes every ordinary path; it
is not a sandbox against code in the same process that patches the harness on purpose.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from harness.errors import AccessDeniedError

__all__ = ["OPTICAL", "SERVICE_REQUEST", "AuditHook", "Permit", "active_permit", "holding",
           "on_refusal", "refused", "require_permit"]

OPTICAL = "optical"
"""Permit kind: IEC 62056-21 writes and executes on an optical probe."""
SERVICE_REQUEST = "service_request"
"""Permit kind: destructive DUIS Service Requests through a DCC adapter."""

AuditHook = Callable[[str, str, Mapping[str, Any]], None]
"""``(action, outcome, detail)``: writes one audit entry in the issuing gate's name."""

_ACTIVE: ContextVar[Permit | None] = ContextVar("meterbench_permit", default=None)
_REFUSAL_HOOKS: list[Callable[[str, str], None]] = []


@dataclass(eq=False)
class Permit:
    """What the gate allowed: destructive commands of ``kinds`` on ``instruments`` (None: any),
    for ``clause`` on ``device_id``, while its block runs; ``audit`` records in its name."""

    kinds: frozenset[str]
    clause: str | None = None
    device_id: str | None = None
    instruments: frozenset[str] | None = None
    audit: AuditHook | None = field(default=None, repr=False)
    live: bool = True

    def allows(self, kind: str, instrument: str) -> bool:
        """Whether this permit covers a ``kind`` command on ``instrument`` now."""
        return (self.live and kind in self.kinds
                and (self.instruments is None or instrument in self.instruments))

    def record(self, action: str, outcome: str, detail: Mapping[str, Any] | None = None) -> None:
        """One audit entry for a command sent under this permit (nothing without a hook)."""
        if self.audit is not None:
            self.audit(action, outcome, dict(detail or {}))


def active_permit() -> Permit | None:
    """The permit of the running block, if any (live or not)."""
    return _ACTIVE.get()


@contextmanager
def holding(permit: Permit) -> Iterator[Permit]:
    """Make ``permit`` the active one for the block; it is dead once the block ends."""
    token = _ACTIVE.set(permit)
    try:
        yield permit
    finally:
        permit.live = False
        _ACTIVE.reset(token)


def on_refusal(hook: Callable[[str, str], None]) -> Callable[[], None]:
    """Call ``hook(instrument, what)`` whenever a driver refuses a command for want of a
    permit (a triage run records those in its audit log); returns the unregister function."""
    _REFUSAL_HOOKS.append(hook)

    def remove() -> None:
        if hook in _REFUSAL_HOOKS:
            _REFUSAL_HOOKS.remove(hook)

    return remove


def refused(instrument: str, what: str) -> None:
    """Tell the refusal hooks that ``what`` on ``instrument`` was refused for want of a gate."""
    for hook in list(_REFUSAL_HOOKS):
        with suppress(Exception):  # a recorder's failure must not open the gate
            hook(instrument, what)


def require_permit(kind: str, what: str, *, instrument: str) -> Permit:
    """The live permit covering ``what`` (a ``kind`` command on ``instrument``); otherwise
    AccessDeniedError, before anything is sent."""
    permit = _ACTIVE.get()
    if permit is not None and permit.allows(kind, instrument):
        return permit
    refused(instrument, what)
    if permit is None or not permit.live:
        why = ("no permit: destructive commands pass the access gate (a device profile's "
               "reset or supply methods, given the run's gate)")
    else:
        why = f"the permit for {permit.clause or 'these requests'} does not cover it"
    raise AccessDeniedError(f"{instrument}: {what} refused: {why}", instrument=instrument,
                            command=what, destructive=True)
