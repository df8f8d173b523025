"""The console's pages: the line at a glance, campaigns, devices (search and one device, the
report's own device page), transcripts and the audit trail; every list a page at a time."""

from __future__ import annotations

import base64
import threading
from collections import OrderedDict
from importlib.resources import files

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from harness.console import queries
from harness.console.disposition import disposition
from harness.console.state import console_of, operator_of, page
from harness.results.charts import png, trace_figure
from harness.results.pages import CampaignView, device_context
from harness.results.report import RFI_COLUMNS, _rfi_rows
from harness.results.store import CampaignRow


def _signin_first(request: Request) -> Response | None:
    """A redirect to the sign-in page when nobody is signed in."""
    if operator_of(request) is None:
        return RedirectResponse(f"/signin?next={request.url.path}", status_code=303)
    return None


def _view(c: CampaignRow, devices: int) -> CampaignView:
    text = "not recorded" if c.emulated is None else ("yes" if c.emulated else "no")
    return CampaignView(c, devices, bool(c.emulated), text)


async def signin_form(request: Request) -> Response:
    """The sign-in page."""
    return page(request, "signin.html", error=None, name="",
                next=request.query_params.get("next", "/"))


def home(request: Request) -> Response:
    """The line at a glance: benches (live), prompts waiting, the latest campaigns."""
    if (go := _signin_first(request)) is not None:
        return go
    console = console_of(request)
    latest = console.store.campaigns_page(1)
    summaries = []
    for c in latest.rows[:5]:
        counts = console.store.verdict_counts(c.id)
        summaries.append((c, counts, sum(counts.values())))
    return page(request, "home.html", line=console.line.snapshot(), summaries=summaries,
                in_progress=console.store.in_progress(),
                facility=console.store.url.get_backend_name() == "postgresql")


def campaigns(request: Request) -> Response:
    """Every campaign, newest first, a page at a time."""
    if (go := _signin_first(request)) is not None:
        return go
    console = console_of(request)
    listing = console.store.campaigns_page(
        queries.page_number(request.query_params.get("page")))
    return page(request, "campaigns.html", listing=listing)


def campaign(request: Request) -> Response:
    """One campaign: progress, verdict counts, RFI figures so far, its devices in pages."""
    if (go := _signin_first(request)) is not None:
        return go
    console = console_of(request)
    cid = int(request.path_params["cid"])
    row = console.store.campaign(cid)
    if row is None:
        return page(request, "missing.html", status_code=404, what=f"campaign {cid}")
    counts = console.store.verdict_counts(cid)
    verdict = request.query_params.get("verdict") or None
    listing = console.store.devices_page(
        queries.page_number(request.query_params.get("page")), campaign_id=cid,
        verdict=verdict, total=counts[verdict] if verdict else sum(counts.values()))
    figures = console.store.campaign_rfi(cid)
    running = next((b for b in console.line.benches.values() if b.campaign_id == cid), None)
    return page(request, "campaign.html", campaign=_view(row, sum(counts.values())),
                counts=sorted(counts.items()), listing=listing, verdict=verdict,
                rfi_rows=_rfi_rows(figures), rfi_columns=RFI_COLUMNS, running=running,
                disposition=disposition)


def devices(request: Request) -> Response:
    """Search devices by item, label, device ID (EUI-64) or MPxN."""
    if (go := _signin_first(request)) is not None:
        return go
    console = console_of(request)
    q = (request.query_params.get("q") or "").strip()
    deep = bool(q) and request.query_params.get("evidence") == "1"
    listing = console.store.devices_page(
        queries.page_number(request.query_params.get("page")), search=q or None,
        in_evidence=deep)
    return page(request, "devices.html", listing=listing, q=q, deep=deep,
                disposition=disposition)


def device(request: Request) -> Response:
    """One device: the report's device page (facts, measurements, findings, current draw),
    with what to do with the device."""
    if (go := _signin_first(request)) is not None:
        return go
    console = console_of(request)
    rid = int(request.path_params["rid"])
    row = console.store.device(rid)
    if row is None:
        return page(request, "missing.html", status_code=404, what=f"device result {rid}")
    c = console.store.campaign(row.campaign_id)
    # The chart is drawn when the browser asks for it (``device_chart``), not with the page.
    trace = row.current_trace
    return page(request, "device.html", row=row, facts=device_context(row),
                campaign=_view(c, 0) if c is not None else None,
                transcript=f"device-{row.id}-transcript.txt" if row.transcript else None,
                transcript_lines=(row.transcript or "").count("\n") + 1,
                findings=row.evidence.get("findings") or [],
                chart=trace is not None and bool(trace.samples),
                chart_src=f"/devices/{row.id}/current.png", trace=trace,
                disposition=disposition(row.verdict, row.category))


_CHARTS = 64
"""How many device charts the console keeps drawn (a result never changes once stored)."""
_charts: OrderedDict[tuple[str, int], bytes] = OrderedDict()
_charts_lock = threading.Lock()  # pages are served from a thread pool


def device_chart(request: Request) -> Response:
    """One device's current draw from power-on, as the PNG the report embeds (drawn once,
    then kept for the next view)."""
    if (go := _signin_first(request)) is not None:
        return go
    console = console_of(request)
    rid = int(request.path_params["rid"])
    key = (console.store.shown_url, rid)
    with _charts_lock:
        image = _charts.get(key)
    if image is None:
        row = console.store.device(rid)
        fig = trace_figure(row) if row is not None else None
        if fig is None:
            return PlainTextResponse("no current trace", status_code=404)
        image = base64.b64decode(png(fig))
    with _charts_lock:
        _charts[key] = image
        _charts.move_to_end(key)
        while len(_charts) > _CHARTS:
            _charts.popitem(last=False)
    return Response(image, media_type="image/png",
                    headers={"Cache-Control": "private, max-age=3600"})


def transcript(request: Request) -> Response:
    """One device's instrument transcript, as text."""
    if (go := _signin_first(request)) is not None:
        return go
    row = console_of(request).store.device(int(request.path_params["rid"]))
    if row is None or not row.transcript:
        return PlainTextResponse("no transcript", status_code=404)
    return PlainTextResponse(row.transcript)


def report_index(request: Request) -> Response:
    """Where the report's device page links back to: the campaigns here."""
    return RedirectResponse("/campaigns", status_code=303)


def audit(request: Request) -> Response:
    """The audit trail, newest first (one operator's with ``?operator=``)."""
    if (go := _signin_first(request)) is not None:
        return go
    who = request.query_params.get("operator") or None
    listing = queries.audit_page(console_of(request).audit,
                                 queries.page_number(request.query_params.get("page")),
                                 operator=who)
    return page(request, "audit.html", listing=listing, who=who)


def report_css(request: Request) -> Response:
    """The report's stylesheet (its tables look the same here), served locally."""
    css = files("harness.results").joinpath("templates/report.css").read_text("utf-8")
    return Response(css, media_type="text/css")
