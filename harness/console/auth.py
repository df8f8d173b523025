"""Who is acting at the console: sign-in against the local accounts or the site's directory
(``harness.console.directory``), the role from the site access file, signed-cookie sessions,
CSRF tokens on every form, lock-out, and the audit log.

The role is never chosen in the browser: it is the first role the site access file
(``harness.triage.site``) grants the account's name (none: the operator may look, answer
prompts and start nothing destructive).  Every sign-in, refused ones included, and every
action is appended to the audit log under the operator's name (bench ``console``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from harness.console.accounts import Accounts, LockOut
from harness.console.directory import Directory, DirectoryUnavailable
from harness.triage.access import Role
from harness.triage.audit import AuditLog
from harness.triage.gate import NO_ROLE
from harness.triage.site import Site

AUDIT_BENCH = "console"
"""The ``bench`` of the console's own audit entries (sign-ins, starts, answers)."""
SESSION_USER, SESSION_CSRF = "user", "csrf"
SESSION_VIA, SESSION_GROUP_ROLES = "via", "group_roles"
LOCAL, DIRECTORY = "local", "directory"


@dataclass(frozen=True)
class Operator:
    """A signed-in operator and the role the site grants them (None: no role)."""

    name: str
    role: Role | None
    via: str = LOCAL  # who checked the password: the local accounts or the site's directory
    group_roles: tuple[Role, ...] = ()  # the roles the directory's mapped groups grant

    @property
    def role_name(self) -> str:
        """The role's value, or ``none``."""
        return self.role.value if self.role is not None else NO_ROLE


class Access:
    """The console's accounts, site, lock-out and audit log, together."""

    def __init__(self, accounts: Accounts, site: Site, audit: AuditLog,
                 lockout: LockOut | None = None) -> None:
        self.accounts = accounts
        self.site = site
        self.audit = audit
        self.lockout = lockout or LockOut()
        self.directory = Directory(site.directory) if site.directory is not None else None

    def operator(self, name: str, via: str = LOCAL,
                 group_roles: tuple[Role, ...] = ()) -> Operator:
        """``name`` with the role the site grants it: the site file's own grant for the name,
        else (signed in by the directory) what the site maps the name's groups to, else the
        site's grant to anyone (``"*"``)."""
        if name in self.site.users or not group_roles:
            granted = self.site.granted(name)
        else:
            granted = group_roles
        return Operator(name, granted[0] if granted else None, via, group_roles)

    def record(self, who: str, role: str, action: str, outcome: str, *,
               device_id: str | None = None, clause: str | None = None,
               detail: dict[str, Any] | None = None, bench: str = AUDIT_BENCH) -> None:
        """One audit entry (committed now)."""
        self.audit.append(operator=who, role=role, action=action, outcome=outcome, bench=bench,
                          device_id=device_id, clause=clause, detail=detail or {})

    def sign_in(self, name: str, password: str, client: str) -> tuple[Operator | None, str]:
        """Check a sign-in; the operator (None: refused) and why. Audited either way."""
        name = name.strip()
        where = {"client": client, "via": "console sign-in"}
        locked = self.lockout.locked(name)
        if locked:
            why = f"account {name!r} is locked out for {locked:.0f} s after failed sign-ins"
            self.record(name or "(empty)", NO_ROLE, "sign in", "refused",
                        detail={**where, "why": why})
            return None, why
        via = LOCAL
        group_roles: tuple[Role, ...] = ()
        if name in self.accounts.hashes or self.directory is None:
            accepted = bool(name) and self.accounts.check(name, password)
        else:  # not a local account: the site's directory checks the password
            via = DIRECTORY
            where["checked_by"] = f"directory {self.directory.config.url}"
            try:
                answer = self.directory.authenticate(name, password)
            except DirectoryUnavailable as exc:  # no answer: not a failed password
                why = f"the directory cannot be asked: {exc}"
                self.record(name, NO_ROLE, "sign in", "refused", detail={**where, "why": why})
                return None, why
            accepted, group_roles = answer.accepted, answer.group_roles
        if not accepted:
            now_locked = self.lockout.failed(name)
            why = "unknown account or wrong password"
            if now_locked:
                why += f"; account locked out for {self.lockout.lock_s:.0f} s"
            self.record(name or "(empty)", NO_ROLE, "sign in", "refused",
                        detail={**where, "why": why})
            return None, why
        self.lockout.succeeded(name)
        operator = self.operator(name, via, group_roles)
        granted_by = self.site.source if name in self.site.users or not group_roles else \
            f"{self.site.source} (directory groups)"
        self.record(name, operator.role_name, "sign in", "done",
                    detail={**where, "granted_by": granted_by})
        return operator, ""


def csrf_token(request: Request) -> str:
    """The session's CSRF token (made on first use)."""
    token = request.session.get(SESSION_CSRF)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(24)
        request.session[SESSION_CSRF] = token
    return token


def csrf_ok(request: Request, sent: Any) -> bool:
    """Whether a form's ``csrf`` field is this session's token."""
    token = request.session.get(SESSION_CSRF)
    return isinstance(token, str) and isinstance(sent, str) and \
        secrets.compare_digest(token, sent)


def current(request: Request, access: Access) -> Operator | None:
    """The signed-in operator of this request (role re-read from the site), or None."""
    name = request.session.get(SESSION_USER)
    if not isinstance(name, str):
        return None
    if request.session.get(SESSION_VIA) == DIRECTORY and access.directory is not None:
        # The roles the groups granted at sign-in, while the site still maps a group to them.
        mapped = {r.value for granted in access.directory.config.groups.values()
                  for r in granted}
        stored = request.session.get(SESSION_GROUP_ROLES)
        roles = tuple(Role(r) for r in stored if r in mapped) \
            if isinstance(stored, list) else ()
        return access.operator(name, DIRECTORY, roles)
    if name not in access.accounts.hashes:
        return None
    return access.operator(name)


def remember(request: Request, operator: Operator) -> None:
    """A fresh session (and CSRF token) for the operator who just signed in."""
    request.session.clear()
    request.session[SESSION_USER] = operator.name
    request.session[SESSION_VIA] = operator.via
    request.session[SESSION_GROUP_ROLES] = [r.value for r in operator.group_roles]
