"""The console's Starlette application: settings, templates, middleware and routes.

``create_app`` is what ``meterbench console`` serves under uvicorn and what the tests drive
with Starlette's TestClient.  Templates are the console's own (``harness/console/templates``)
over the HTML report's (``harness/results/templates``): the console's ``base.html`` shadows
the report's, so the report's device page renders inside the console, live from the store.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from harness.console.accounts import Accounts, LockOut
from harness.console.auth import Access, Operator, csrf_token, current
from harness.console.line import Line
from harness.results.pages import cell, stored_text, with_alert_names
from harness.results.report import meterbench_version
from harness.results.store import ResultStore
from harness.triage.audit import AuditLog
from harness.triage.site import Site

STATIC = Path(__file__).parent / "static"
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
        self.audit = AuditLog.open(settings.audit_db)
        self.access = Access(settings.accounts, settings.site, self.audit, settings.lockout)
        self.line = Line(settings.bench_files, db=settings.db, audit_db=settings.audit_db,
                         base_url=settings.base_url)

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


def create_app(settings: Settings) -> Starlette:
    """The console app for ``settings`` (opens the store and the audit log now)."""
    from harness.console import actions, views

    console = Console(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await console.line.stop_all()
            console.close()

    routes = [
        Route("/", views.home),
        Route("/signin", views.signin_form, methods=["GET"]),
        Route("/signin", actions.signin, methods=["POST"]),
        Route("/signout", actions.signout, methods=["POST"]),
        Route("/campaigns", views.campaigns),
        Route("/campaigns/{cid:int}", views.campaign),
        Route("/devices", views.devices),
        Route("/devices/{rid:int}", views.device),
        Route("/devices/device-{rid:int}-transcript.txt", views.transcript),
        Route("/index.html", views.report_index),  # the report device page's "back" link
        Route("/audit", views.audit),
        Route("/events", actions.events),
        Route("/line.json", actions.line_json),
        Route("/benches/{name}/start", actions.start, methods=["POST"]),
        Route("/prompts/{pid:int}", actions.answer, methods=["POST"]),
        Route("/api/run/event", actions.run_event, methods=["POST"]),
        Route("/api/run/ask", actions.run_ask, methods=["POST"]),
        Route("/api/run/answer", actions.run_answer, methods=["POST"]),
        Route("/static/report.css", views.report_css),
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
    ]
    middleware = [Middleware(SessionMiddleware, secret_key=settings.secret_key,
                             session_cookie="mb_console", max_age=SESSION_HOURS * 3600,
                             same_site="strict", https_only=settings.https_only)]
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.console = console
    return app
