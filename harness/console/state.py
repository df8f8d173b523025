"""The running console's state and how a page is drawn: settings, the Jinja2 environment
(the console's templates over the HTML report's), the store, audit log, access and line.

The console's ``base.html`` shadows the report's, so the report's device page renders inside
the console, live from the store.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from harness.console.accounts import Accounts, LockOut
from harness.console.auth import Access, Operator, csrf_token, current
from harness.console.line import FACILITY_POLL_S, Line
from harness.results.bench_owner import FacilityBenchLock
from harness.results.facility_status import live_benches
from harness.results.pages import cell, stored_text, with_alert_names
from harness.results.report import meterbench_version
from harness.results.store import ResultStore
from harness.triage.audit import AuditLog
from harness.triage.site import Site

SESSION_HOURS = 10
"""A session lasts a shift; signing out ends it sooner."""


@dataclass
class Settings:
    """What a console serves: its store, audit log, accounts, site and benches."""

    db: str
    audit_db: str
    accounts: Accounts
    site: Site
    bench_files: list[Path] = field(default_factory=list)
    base_url: str = ""
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    lockout: LockOut = field(default_factory=LockOut)
    https_only: bool = False
    time_scale: float | None = None
    facility_poll_s: float = FACILITY_POLL_S


@cache
def environment() -> Environment:
    """Jinja2 over the console's templates, then the report's (HTML autoescaped)."""
    env = Environment(loader=ChoiceLoader([PackageLoader("harness.console", "templates"),
                                           PackageLoader("harness.results", "templates")]),
                      autoescape=select_autoescape(["html"]), undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["cell"] = cell
    env.filters["stored"] = stored_text
    env.filters["alerts"] = with_alert_names
    env.globals["version"] = meterbench_version()
    return env


class Console:
    """The running console's state, held on ``app.state.console``."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = ResultStore.open(settings.db, create=True)
        self.store.add_browse_index()
        self.audit = AuditLog.open(settings.audit_db)
        self.access = Access(settings.accounts, settings.site, self.audit, settings.lockout)
        self.line = Line(settings.bench_files, db=settings.db, audit_db=settings.audit_db,
                         base_url=settings.base_url)

    def watch_facility(self) -> asyncio.Task[None] | None:
        """Start reading the facility's benches from the store where it is shared
        (PostgreSQL; ``Line.watch_facility``); None on a store of this host alone."""
        if not FacilityBenchLock.applies(self.store):
            return None
        store = self.store
        return asyncio.get_running_loop().create_task(
            self.line.watch_facility(lambda: live_benches(store),
                                     self.settings.facility_poll_s))

    def close(self) -> None:
        """Release the databases."""
        self.store.close()
        self.audit.close()


def console_of(request: Request) -> Console:
    """The console serving ``request``."""
    console: Console = request.app.state.console
    return console


def operator_of(request: Request) -> Operator | None:
    """The signed-in operator of ``request``, or None."""
    return current(request, console_of(request).access)


def page(request: Request, template: str, status_code: int = 200, **context: Any) -> Response:
    """A page from its template, with who is signed in and the session's CSRF token."""
    console = console_of(request)
    html = environment().get_template(template).render(
        request=request, operator=operator_of(request), csrf=csrf_token(request),
        site=console.settings.site, emulated_note=None, **context)
    return HTMLResponse(html, status_code=status_code)


