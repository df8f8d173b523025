"""What the console does, not only shows: sign-in and out, starting a campaign, answering a
prompt (each audited under the operator's name, each form CSRF-checked), the live event
stream, and the API a run it started uses (its token, not a session)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse

from harness.console.auth import SESSION_CSRF, SESSION_USER, Operator, csrf_ok, remember
from harness.console.line import Bench
from harness.console.state import console_of, operator_of, page
from harness.errors import AccessDeniedError
from harness.triage.access import check

MAX_DEVICES = 500
"""The most devices a console-started emulated campaign generates."""
HEARTBEAT_S = 15.0
"""An event stream sends at least this often (a comment), so proxies keep it open."""


def _client(request: Request) -> str:
    return request.client.host if request.client else "?"


def _safe_next(target: str | None) -> str:
    """Only a path on this console (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


async def _form(request: Request) -> tuple[dict[str, Any], Response | None]:
    """The posted form, or a 403 page when its CSRF token is not this session's."""
    form = dict(await request.form())
    if not csrf_ok(request, form.get("csrf")):
        why = "the form's security token is missing or out of date (reload the page and try again)"
        if request.headers.get("accept") == "application/json":
            return form, JSONResponse({"error": why}, status_code=403)
        return form, page(request, "refused.html", status_code=403, why=why)
    return form, None


async def signin(request: Request) -> Response:
    """Check a sign-in (audited, refused ones too); a new session on success."""
    form, refused = await _form(request)
    if refused is not None:
        return refused
    console = console_of(request)
    name, password = str(form.get("name", "")), str(form.get("password", ""))
    operator, why = await run_in_threadpool(console.access.sign_in, name, password,
                                            _client(request))
    if operator is None:
        return page(request, "signin.html", status_code=401, error=why, name=name,
                    next=_safe_next(str(form.get("next", "/"))))
    remember(request, operator)  # a fresh session (and CSRF token)
    return RedirectResponse(_safe_next(str(form.get("next", "/"))), status_code=303)


async def signout(request: Request) -> Response:
    """End the session (audited)."""
    _, refused = await _form(request)
    if refused is not None:
        return refused
    operator = operator_of(request)
    if operator is not None:
        await run_in_threadpool(console_of(request).access.record, operator.name,
                                operator.role_name, "sign out", "done")
    request.session.pop(SESSION_USER, None)
    request.session.pop(SESSION_CSRF, None)
    return RedirectResponse("/signin", status_code=303)


def destructive_refusal(request: Request, operator: Operator) -> AccessDeniedError | None:
    """Why ``operator`` may not start a campaign (None: they may): a campaign resets the
    devices that need it, so the role must be eligible for every destructive clause of the
    site's access table (``harness.triage.access.check``); the resets are named first."""
    site = console_of(request).settings.site
    destructive = sorted((c for c in site.spec.clauses if c.destructive),
                         key=lambda c: (not c.id.startswith("TRI-RST"), c.id))
    refusals: list[AccessDeniedError] = []
    for clause in destructive:
        if operator.role is None:
            refusals.append(AccessDeniedError(
                f"{operator.name} is granted no role by {site.source}: may not run "
                f"{clause.id} ({clause.title}; destructive)", clause=clause.id))
            continue
        try:
            check(operator.role, clause, spec=site.spec)
        except AccessDeniedError as exc:
            refusals.append(exc)
    if not refusals:
        return None
    first = refusals[0]
    if len(refusals) > 1:
        others = ", ".join(str(r.context.get("clause")) for r in refusals[1:])
        return AccessDeniedError(f"{first}; nor {others}", **first.context)
    return first


async def start(request: Request) -> Response:
    """Start a campaign on a bench: a signed-in operator whose role may run the destructive
    clauses (resets); the start, or its refusal, is audited."""
    form, refused = await _form(request)
    if refused is not None:
        return refused
    operator = operator_of(request)
    if operator is None:
        return RedirectResponse("/signin", status_code=303)
    console = console_of(request)
    name = request.path_params["name"]
    record = console.access.record
    why = destructive_refusal(request, operator)
    if why is not None:
        await run_in_threadpool(record, operator.name, operator.role_name, "start campaign",
                                "refused", clause=why.context.get("clause"),
                                detail={"bench": name, "why": str(why)}, bench=name)
        return page(request, "refused.html", status_code=403, why=str(why), audited=True)
    try:
        devices = max(1, min(MAX_DEVICES, int(form.get("devices") or 4)))
        seed = max(0, int(form.get("seed") or 0))
    except ValueError:
        return page(request, "refused.html", status_code=400,
                    why="devices and seed must be whole numbers")
    batch = Path(str(form["batch"]).strip()) if str(form.get("batch") or "").strip() else None
    try:
        bench = await console.line.start(name, devices=devices, seed=seed,
                                         operator=operator.name, role=operator.role_name,
                                         time_scale=console.settings.time_scale, batch=batch)
    except (ValueError, OSError) as exc:
        await run_in_threadpool(record, operator.name, operator.role_name, "start campaign",
                                "refused", detail={"bench": name, "why": str(exc)}, bench=name)
        return page(request, "refused.html", status_code=409, why=str(exc), audited=True)
    await run_in_threadpool(record, operator.name, operator.role_name, "start campaign",
                            "done", detail={"bench": name, "devices": devices, "seed": seed,
                                            "batch": str(batch) if batch else None,
                                            "emulated": bench.emulated}, bench=name)
    return RedirectResponse("/", status_code=303)


async def answer(request: Request) -> Response:
    """Answer a waiting prompt (done, skip, abort, or the scanned label); audited."""
    form, refused = await _form(request)
    if refused is not None:
        return refused
    operator = operator_of(request)
    wants_json = request.headers.get("accept") == "application/json"
    if operator is None:
        if wants_json:
            return JSONResponse({"error": "signed out: sign in again"}, status_code=401)
        return RedirectResponse("/signin", status_code=303)
    console = console_of(request)
    choice = str(form.get("choice") or "done")
    reply = {"skip": "s", "abort": "a"}.get(choice, str(form.get("reply") or "").strip())
    try:
        prompt = await console.line.answer(int(request.path_params["pid"]), reply,
                                           operator.name)
    except ValueError as exc:
        if wants_json:
            return JSONResponse({"error": str(exc)}, status_code=409)
        return page(request, "refused.html", status_code=409, why=str(exc))
    await run_in_threadpool(console.access.record, operator.name, operator.role_name,
                            "answer prompt", "done", bench=prompt.bench,
                            detail={"prompt": prompt.text, "reply": reply, "item": prompt.key,
                                    "slot": prompt.slot})
    if wants_json:
        return JSONResponse({"ok": True, "id": prompt.id})
    return RedirectResponse("/", status_code=303)


def line_json(request: Request) -> Response:
    """The line now, as JSON (what each event carries)."""
    if operator_of(request) is None:
        return JSONResponse({"error": "sign in first"}, status_code=401)
    return JSONResponse(console_of(request).line.snapshot())


async def events(request: Request) -> Response:
    """Server-sent events: the line's state each time it changes."""
    if operator_of(request) is None:
        return JSONResponse({"error": "sign in first"}, status_code=401)
    line = console_of(request).line

    async def stream() -> AsyncIterator[str]:
        seen = -1
        while not await request.is_disconnected():
            if line.version != seen:
                seen = line.version
                yield f"data: {json.dumps(line.snapshot())}\n\n"
            else:
                yield ": heartbeat\n\n"
            seen_now = await line.wait_change(seen, HEARTBEAT_S)
            if seen_now == seen:
                await asyncio.sleep(0)

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


async def _run(request: Request) -> tuple[Bench | None, dict[str, Any]]:
    bench = console_of(request).line.bench_of_token(request.headers.get("X-Console-Token"))
    try:
        body = await request.json()
    except ValueError:
        body = None
    return bench, body if isinstance(body, dict) else {}


_FORBIDDEN = {"error": "no campaign of this console holds that token"}


async def run_event(request: Request) -> Response:
    """A run's live feed (its token says which bench)."""
    bench, body = await _run(request)
    if bench is None:
        return JSONResponse(_FORBIDDEN, status_code=403)
    await console_of(request).line.event(bench, body)
    return JSONResponse({"ok": True})


async def run_ask(request: Request) -> Response:
    """A run asks the operator something; the prompt's id."""
    bench, body = await _run(request)
    if bench is None:
        return JSONResponse(_FORBIDDEN, status_code=403)
    prompt = await console_of(request).line.ask(bench, body)
    return JSONResponse({"id": prompt.id})


async def run_answer(request: Request) -> Response:
    """A run waits for a prompt's answer (a long poll), or gives up on it."""
    bench, body = await _run(request)
    if bench is None:
        return JSONResponse(_FORBIDDEN, status_code=403)
    try:
        prompt_id, wait_s = int(body.get("id", 0)), float(body.get("wait_s", 0))
    except (TypeError, ValueError):
        return JSONResponse({"error": "id and wait_s must be numbers"}, status_code=400)
    prompt = await console_of(request).line.wait_answer(bench, prompt_id, wait_s,
                                                        bool(body.get("expire")))
    if prompt is None:
        return JSONResponse({"error": f"no prompt {prompt_id} on this bench"}, status_code=404)
    return JSONResponse({"answered": prompt.answer is not None, "reply": prompt.answer,
                         "by": prompt.answered_by})
