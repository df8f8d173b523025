"""The access gate: who may change a device, checked where the command is issued, audited.

DESIGN.md principle 7 and issue 12.  A :class:`Gate` is made once per run by
:meth:`Gate.open`, which takes the acting operating-system user's roles from the site
(``harness.triage.site``; ``--role`` can only narrow them), and is given to every device
profile.  A profile's destructive method calls :meth:`Gate.destructive`: the clause is
checked against the site's access table (a refusal is audited, then raised, before anything
is sent), a STARTED entry is committed, a :class:`~harness.drivers.permit.Permit` is held
while the command goes out (drivers refuse W1/E2 frames and destructive Service Requests
without one), then DONE or FAILED is written.  :meth:`Gate.service_requests` permits the
destructive Service Requests of a route that is not a triage clause (the QA suite, the
``duis`` profile installing a meter to read it); the DCC adapter audits each one.  Signing
with the Supplier's credentials for a role the DCC refused is :meth:`Gate.fallback_to_supplier`,
off unless the run asked for it, and audited.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any

from harness.drivers.permit import OPTICAL, SERVICE_REQUEST, Permit, holding, on_refusal
from harness.errors import AccessDeniedError
from harness.triage.access import Role
from harness.triage.access import check as check_role
from harness.triage.site import Site, choose_role, current_user, resolve_site

if TYPE_CHECKING:
    from harness.config.models import BenchConfig
    from harness.triage.audit import AuditLog
    from harness.triage.spec import TriageSpec

__all__ = ["NO_ROLE", "Gate"]

NO_ROLE = "none"
"""How the audit log and the records name an operator the site grants no role."""


class Gate:
    """A run's access gate (see the module doc); build it with :meth:`open`."""

    def __init__(self, *, site: Site, user: str, role: Role | None, operator: str, bench: str,
                 audit: Callable[[], AuditLog | None], fallback_supplier: bool = False) -> None:
        self.site = site
        self.user = user
        self.role = role
        self.operator = operator
        self.bench = bench
        self.fallback_supplier = fallback_supplier
        self._audit = audit
        self._unwatch: Callable[[], None] | None = None

    @classmethod
    def open(cls, bench: BenchConfig, *, role: str | Role | None = None,
             operator: str | None = None, audit: AuditLog | Callable[[], AuditLog | None] | None,
             fallback_supplier: bool = False) -> Gate:
        """The gate for the acting user on ``bench``: the site in force (the built-in emulated
        site only for an all-emulated bench without a site file), the role it grants narrowed
        by ``role`` (BenchConfigError for an unknown role, AccessDeniedError for one the site
        does not grant), ``audit`` (a log or a function giving it when first needed)."""
        emulated = bool(bench.instruments) and all(i.emulated for i in bench.instruments.values())
        site = resolve_site(emulated=emulated)
        user = current_user()
        chosen = choose_role(site, user, role)
        provider = audit if callable(audit) else (lambda: audit)
        return cls(site=site, user=user, role=chosen, operator=operator or user,
                   bench=bench.bench.name, audit=provider, fallback_supplier=fallback_supplier)

    # -- what it tells --------------------------------------------------------------------------

    @property
    def role_name(self) -> str:
        """The acting role's value, or ``none``."""
        return self.role.value if self.role is not None else NO_ROLE

    @property
    def spec(self) -> TriageSpec:
        """The triage spec under the site's access table."""
        return self.site.spec

    def describe(self) -> str:
        """One line for a run header: who acts in which role, granted by what."""
        granted = ", ".join(r.value for r in self.site.granted(self.user)) or "no role"
        line = (f"access: operator {self.operator} (user {self.user}) acts as {self.role_name}; "
                f"{self.site.source} grants {granted}")
        if self.site.emulated:
            line += " (all-emulated bench: any role, no hardware to harm)"
        if self.role is None:
            line += "; destructive clauses will be refused and audited"
        if self.fallback_supplier:
            line += "; --fallback-supplier: the Supplier may make requests the role is refused"
        return line

    def may(self, clause: str) -> bool:
        """Whether the acting role may run ``clause``."""
        c = self.spec.clause(clause)
        return set(c.eligible) >= set(Role) if self.role is None else self.role in c.eligible

    def check(self, clause: str) -> None:
        """Return if the acting role may run ``clause``; else AccessDeniedError saying who may
        (the access table's own check; an operator the site grants no role may run only what
        every role may)."""
        if self.role is not None:
            check_role(self.role, clause, spec=self.spec)
            return
        if self.may(clause):
            return
        c = self.spec.clause(clause)
        eligible = ", ".join(r.value for r in c.eligible) or "no role"
        kind = "destructive" if c.destructive else "non-destructive"
        raise AccessDeniedError(f"user {self.user!r}, granted no role by {self.site.source}, may "
                                f"not run {c.id} ({c.title}; {kind}): eligible: {eligible}",
                                role=self.role_name, clause=c.id, destructive=c.destructive,
                                eligible=[r.value for r in c.eligible])

    # -- the audit log --------------------------------------------------------------------------

    def record(self, *, action: str, outcome: str, device_id: str | None = None,
               clause: str | None = None, detail: Mapping[str, Any] | None = None) -> None:
        """Append (and commit) one entry in this gate's name; no log is an AccessDeniedError:
        nothing destructive happens unaudited."""
        log = self._audit()
        if log is None:
            raise AccessDeniedError(f"{action} refused: no audit log to record it in "
                                    "(give --audit-db)", clause=clause)
        log.append(operator=self.operator, role=self.role_name, action=action, outcome=outcome,
                   bench=self.bench, device_id=device_id, clause=clause,
                   detail={"user": self.user, **(detail or {})})

    def watch_refusals(self) -> None:
        """Audit every driver refusal for want of a permit (e.g. a probe called directly)."""
        if self._unwatch is None:
            def refused(instrument: str, what: str) -> None:
                self.record(action=what, outcome="refused",
                            detail={"instrument": instrument,
                                    "why": "no permit: sent outside the access gate"})
            self._unwatch = on_refusal(refused)

    def close(self) -> None:
        """Stop auditing driver refusals (the run is over)."""
        if self._unwatch is not None:
            self._unwatch()
            self._unwatch = None

    # -- permits --------------------------------------------------------------------------------

    def _refuse(self, exc: AccessDeniedError, *, action: str, device_id: str | None,
                clause: str | None, detail: Mapping[str, Any]) -> None:
        self.record(action=action, outcome="refused", device_id=device_id, clause=clause,
                    detail={**detail, "why": str(exc)})

    @contextmanager
    def destructive(self, clause: str, *, device_id: str | None,
                    instruments: frozenset[str] | None, action: str | None = None,
                    detail: Mapping[str, Any] | None = None) -> Iterator[Permit]:
        """Authorise ``clause``, commit STARTED, hold a permit for ``instruments`` while the
        block sends, then write DONE or FAILED; a refusal is audited and raised first."""
        action = action or clause
        extra = dict(detail or {})
        try:
            self.check(clause)
        except AccessDeniedError as exc:
            self._refuse(exc, action=action, device_id=device_id, clause=clause, detail=extra)
            raise
        self.record(action=action, outcome="started", device_id=device_id, clause=clause,
                    detail=extra)
        permit = Permit(frozenset({OPTICAL, SERVICE_REQUEST}), clause=clause,
                        device_id=device_id, instruments=instruments,
                        audit=self._hook(device_id, clause))
        with self._finished(action, device_id, clause, extra), holding(permit):
            yield permit

    @contextmanager
    def service_requests(self, *, device_id: str | None, instruments: frozenset[str] | None,
                         why: str) -> Iterator[Permit]:
        """Permit destructive Service Requests that are no triage clause (the DCC judges the
        signer's DUIS roles; the adapter audits each request).  An operator with no role is
        refused (audited)."""
        if self.role is None:
            exc = AccessDeniedError(f"{why}: refused: user {self.user!r} is granted no role by "
                                    f"{self.site.source}", role=NO_ROLE)
            self._refuse(exc, action="service requests", device_id=device_id, clause=None,
                         detail={"purpose": why})
            raise exc
        permit = Permit(frozenset({SERVICE_REQUEST}), device_id=device_id,
                        instruments=instruments, audit=self._hook(device_id, None, why))
        with holding(permit):
            yield permit

    @contextmanager
    def fallback_to_supplier(self, variant: str, *, device_id: str | None, why: str
                             ) -> Iterator[None]:
        """The block signs ``variant`` as the Supplier for a role the DCC refused: only when
        the run chose ``--fallback-supplier``; audited (who, which request, why) either way."""
        detail = {"request": variant, "why": why, "acting_role": self.role_name}
        action = f"fallback to supplier for {variant}"
        if not self.fallback_supplier:
            exc = AccessDeniedError(f"{variant} refused to {self.role_name}; not made with the "
                                    "Supplier's credentials (pass --fallback-supplier to allow "
                                    "it, audited)", role=self.role_name, variant=variant)
            self._refuse(exc, action=action, device_id=device_id, clause=None, detail=detail)
            raise exc
        self.record(action=action, outcome="started", device_id=device_id, detail=detail)
        with self._finished(action, device_id, None, detail):
            yield

    @contextmanager
    def _finished(self, action: str, device_id: str | None, clause: str | None,
                  detail: Mapping[str, Any]) -> Iterator[None]:
        """DONE when the block ends, FAILED (with why) when it raises anything."""
        try:
            yield
        except BaseException as exc:
            with suppress(Exception):
                self.record(action=action, outcome="failed", device_id=device_id, clause=clause,
                            detail={**detail, "why": f"{type(exc).__name__}: {exc}"})
            raise
        self.record(action=action, outcome="done", device_id=device_id, clause=clause,
                    detail=detail)

    def _hook(self, device_id: str | None, clause: str | None, purpose: str | None = None
              ) -> Callable[[str, str, Mapping[str, Any]], None]:
        """The permit's audit hook: entries for each command, in this gate's name."""
        def hook(action: str, outcome: str, detail: Mapping[str, Any]) -> None:
            extra = {**detail, "purpose": purpose} if purpose else dict(detail)
            self.record(action=action, outcome=outcome, device_id=device_id, clause=clause,
                        detail=extra)
        return hook
