"""The console's Starlette application: middleware and routes over the console's state.

``create_app`` is what ``meterbench console`` serves under uvicorn and what the tests drive
with Starlette's TestClient; the pages are ``harness.console.views``, what the console does is
``harness.console.actions``, its state and templates ``harness.console.state``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from harness.console import actions, views
from harness.console.state import SESSION_HOURS, Console, Settings

STATIC = Path(__file__).parent / "static"

__all__ = ["Settings", "create_app"]


def create_app(settings: Settings) -> Starlette:
    """The console app for ``settings`` (opens the store and the audit log now)."""
    console = Console(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        watching = console.watch_facility()  # other hosts' benches, on a shared store
        try:
            yield
        finally:
            if watching is not None:
                watching.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watching
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
        Route("/devices/{rid:int}/current.png", views.device_chart),
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
