"""Reports from the results store: HTML (RFI table, charts, a page per device), CSV, JSON.

The HTML is one self-contained folder that opens offline: ``index.html`` (when, by which
meterbench, of which campaigns; the RFI figures with their definitions; charts as base64 PNGs;
the devices, sortable and filterable), a page per device under ``devices/`` (measurements,
limits, pass/fail, findings, the current draw from power-on as inline SVG) with its instrument
transcript as a file beside it, and ``results.csv``, ``measurements.csv`` and ``rfi.csv``. The
pages are Jinja2 templates (``harness.results.pages``); charts are ``harness.results.charts``
and ``harness.results.trace_svg``. Device pages, CSVs and JSON are written one device at a
time, so a report of 10,000 devices holds only their summaries in memory.
"""

from __future__ import annotations

import csv
import datetime
import importlib.metadata
import json
import textwrap
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Literal

from harness.protocols.gbcs_alerts import AlertInfo
from harness.results.charts import index_charts
from harness.results.pages import (
    CampaignView,
    ReportMeta,
    alerts_in,
    cell,
    device_context,
    render,
)
from harness.results.rfi import RfiFigures, rfi_figures
from harness.results.store import CampaignRow, DeviceRow
from harness.results.trace_svg import trace_svg

Format = Literal["html", "csv", "json"]
FullRows = Callable[[Sequence[DeviceRow]], Iterable[DeviceRow]]
"""Reads report rows in full, in order (``ResultStore.full_results`` over their ids)."""
RESULT_FIELDS = ("item_key", "campaign_id", "bench", "device_type", "device_id", "model",
                 "label_id", "verdict", "category", "duis_return_reason", "reset", "why",
                 "started", "finished", "duration_s", "operator", "role", "transcript",
                 "generation", "return_date", "bench_kind")
"""results.csv's columns; ``transcript`` names the device's transcript file in the folder;
``bench_kind`` says whether an emulated bench triaged it (empty: not recorded)."""
RFI_FIELDS = ("generation", "group", "returned", "reset_done", "needed_reset",
              "no_fault_found", "fault", "inconclusive", "not_triaged")
ALL_GENERATIONS = "all"
"""The ``generation`` of the RFI rows that count every generation together."""
MEASUREMENT_FIELDS = ("item_key", "device_id", "clause", "name", "value", "unit", "low",
                      "high", "expected", "passed")
TRANSCRIPT_FOLDER = "devices"
"""Where each device's transcript file goes (beside its page)."""


def _result_row(row: DeviceRow) -> dict[str, str]:
    """One results.csv row: small cells only (the transcript is named, not inlined)."""
    values = {name: cell(getattr(row, name)) for name in RESULT_FIELDS}
    values["transcript"] = (f"{TRANSCRIPT_FOLDER}/{_transcript_file(row)}" if row.transcript
                            else "")
    return values


def _measurement_rows(rows: Sequence[DeviceRow]) -> list[dict[str, str]]:
    out = []
    for row in rows:
        for m in row.measurements:
            out.append({"item_key": row.item_key, "device_id": cell(row.device_id),
                        "clause": m.clause, "name": m.name, "value": cell(m.value),
                        "unit": m.unit, "low": cell(m.low), "high": cell(m.high),
                        "expected": cell(m.expected), "passed": cell(m.passed)})
    return out


def _write_csv(path: Path, fields: Sequence[str], rows: Sequence[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(fields))
        writer.writeheader()
        writer.writerows(rows)
    return path


def _rfi_rows(figures: RfiFigures) -> list[dict[str, str]]:
    """The RFI table: every generation's groups, then all generations' groups and the total."""
    rows = []
    per_generation = [(gen, name, g) for gen, groups in figures.by_generation.items()
                      for name, g in groups.items()]
    every = [(ALL_GENERATIONS, name, g) for name, g in figures.groups.items()]
    for gen, name, g in [*per_generation, *every, (ALL_GENERATIONS, "Total", figures.total)]:
        rows.append({"generation": gen, "group": name,
                     **{field: str(getattr(g, field)) for field in RFI_FIELDS[2:]}})
    return rows


def _period_text(since: datetime.date | None, until: datetime.date | None,
                 by_return_date: bool = False) -> str:
    if since is None and until is None:
        return "all results"
    what = "devices returned" if by_return_date else "devices triaged"
    return f"{what} {since.isoformat() if since else 'from the start'} to " \
           f"{until.isoformat() if until else 'now'} (UTC, inclusive)"


EMULATED_MODEL_PREFIX = "EMU-"
"""How the emulator's catalogue names its device models (``EMU-ESME-1`` ...): where a store
does not record whether a campaign was emulated, a campaign whose every device is such a model
is shown as emulated, and the report says that it was inferred."""
RFI_COLUMNS = (("returned", "Returned"), ("reset_done", "Reset done"),
               ("needed_reset", "Needed reset"), ("no_fault_found", "No fault found"),
               ("fault", "Fault"), ("inconclusive", "Inconclusive"),
               ("not_triaged", "Not triaged"))
"""The RFI table's figures and their headings, in the HTML and (by field) in rfi.csv."""
DEFINITIONS = (
    ("Returned", "returned devices with a result in the period (triaged in it, or returned in "
                 "it with --by-return-date)."),
    ("Reset done", "devices the triage reset (TRI-RST), whatever the verdict: the terminal's "
                   "\u201creset done\u201d column counts the same."),
    ("Needed reset", "devices reset to be reused: reset done and not found faulty "
                     "(SECMP0010, the RFI's \u201cneeded resetting\u201d). A device reset "
                     "whose fault showed only afterwards is in Reset done, not here."),
    ("No fault found", "every check passed, then reset and verified by read-back."),
    ("Fault", "a fault was found; its category is the strongest found."),
    ("Inconclusive", "the triage could not decide (the why column says what is missing)."),
    ("Not triaged", "returned but skipped by the operator or left at an abort."),
)
"""What each RFI figure counts, shown under the table."""
DEVICE_COLUMNS = (("Item", False), ("Device ID", False), ("Type", False), ("Model", False),
                  ("Verdict", False), ("Category", False), ("Reset done", False),
                  ("Why", False), ("Finished", False), ("Time (s)", True), ("Bench", False),
                  ("Campaign", False))
"""The index's device table: heading and whether it sorts as a number."""
ONLY_WHEN_SEVERAL = ("Bench", "Campaign")
"""Device-table columns shown only when the report has several (one is named above it)."""


def meterbench_version() -> str:
    """The installed meterbench's version (the package's own when not installed)."""
    try:
        return importlib.metadata.version("meterbench")
    except importlib.metadata.PackageNotFoundError:
        import harness

        return harness.__version__


def campaign_views(campaigns: Sequence[CampaignRow],
                   rows: Sequence[DeviceRow]) -> tuple[CampaignView, ...]:
    """The campaigns as the report shows them: devices in the period and whether emulated
    (as the store recorded it, else inferred from the emulator's model names, and said so)."""
    views = []
    for c in campaigns:
        mine = [r for r in rows if r.campaign_id == c.id]
        if c.emulated is not None:
            emulated, text = c.emulated, "yes" if c.emulated else "no"
        elif mine and all((r.model or "").startswith(EMULATED_MODEL_PREFIX) for r in mine):
            emulated, text = True, "yes (inferred from the device models)"
        else:
            emulated, text = False, "not recorded"
        views.append(CampaignView(c, len(mine), emulated, text))
    return tuple(views)


def _emulated_note(campaigns: Sequence[CampaignView]) -> str | None:
    """The banner of a page whose campaigns include emulated ones (None: no banner)."""
    names = ", ".join(c.label for c in campaigns if c.emulated)
    if not names:
        return None
    return (f"campaign {names} ran on an emulated bench: emulated devices, not returned "
            "devices; its figures are no lab's.")


def _index(rows: Sequence[DeviceRow], figures: RfiFigures, meta: ReportMeta,
           measured: Iterable[AlertInfo] = ()) -> str:
    """The index page; ``measured``: the alerts the devices' measured values name (gathered
    while their pages were written, as the index rows are summaries without measurements)."""
    why_alerts = [a for r in rows for a in alerts_in(r.why)]
    measured = [*measured, *(a for r in rows for m in r.measurements
                             for a in alerts_in(m.value or ""))]
    alerts = sorted({a.code: a for a in [*why_alerts, *measured]}.values(),
                    key=lambda a: a.code)
    return render("index.html", meta=meta, emulated_note=_emulated_note(meta.campaigns),
                  rows=rows,
                  rfi_rows=_rfi_rows(figures), rfi_columns=RFI_COLUMNS,
                  definitions=DEFINITIONS,
                  categories=figures.faults_by_category.most_common(),
                  charts=index_charts(rows, figures) if rows else {}, alerts=alerts,
                  verdicts=sorted({r.verdict for r in rows}),
                  types=sorted({r.device_type for r in rows}),
                  device_columns=DEVICE_COLUMNS, shown_columns=_shown_columns(rows),
                  device_file=_device_file)


def _shown_columns(rows: Sequence[DeviceRow]) -> set[str]:
    """The device table's columns: bench and campaign only when there are several."""
    several = {"Bench": len({r.bench for r in rows}) > 1,
               "Campaign": len({r.campaign_id for r in rows}) > 1}
    return {title for title, _ in DEVICE_COLUMNS if several.get(title, True)}


def _device_page(row: DeviceRow, meta: ReportMeta,
                 campaigns: dict[int, CampaignView]) -> str:
    campaign = campaigns.get(row.campaign_id)
    chart = trace_svg(row)
    return render("device.html", meta=meta,
                  emulated_note=_emulated_note([campaign] if campaign else []), row=row,
                  facts=device_context(row), campaign=campaign,
                  transcript=_transcript_file(row) if row.transcript else None,
                  transcript_lines=(row.transcript or "").count("\n") + 1,
                  findings=row.evidence.get("findings") or [],
                  chart=chart, trace=row.current_trace)


def _device_file(row: DeviceRow) -> str:
    return f"device-{row.id}.html"


def _transcript_file(row: DeviceRow) -> str:
    return f"device-{row.id}-transcript.txt"


def _write_transcript(row: DeviceRow, out: Path) -> Path | None:
    """The device's instrument transcript as its own file under ``devices/`` (results.csv
    names the file: a whole transcript is far beyond a spreadsheet cell)."""
    if not row.transcript:
        return None
    path = out / TRANSCRIPT_FOLDER / _transcript_file(row)
    path.parent.mkdir(exist_ok=True)
    path.write_text(row.transcript, encoding="utf-8")
    return path


def _device_json(row: DeviceRow) -> dict[str, object]:
    """One device of results.json: its results.csv cells, measurements, trace, transcript."""
    return {**_result_row(row), "reset": row.reset, "duration_s": row.duration_s,
            "transcript": row.transcript,
            "measurements": [m.__dict__ for m in row.measurements],
            "current_trace": row.current_trace.as_dict() if row.current_trace else None}


def _write_json(path: Path, head: Mapping[str, object], devices: Iterable[DeviceRow]) -> Path:
    """results.json as ``json.dumps(head | {"devices": [...]}, indent=2)`` writes it, one
    device at a time (a 10,000-device report never holds every device in memory)."""
    text = json.dumps({**head, "devices": []}, indent=2, default=str)
    before, after = text.rsplit("[]", 1)
    with path.open("w", encoding="utf-8") as fh:
        fh.write(before)
        first = True
        for row in devices:
            device = json.dumps(_device_json(row), indent=2, default=str)
            fh.write(("[\n" if first else ",\n") + textwrap.indent(device, "    "))
            first = False
        fh.write("[]" if first else "\n  ]")
        fh.write(after)
    return path


def _identity(rows: Sequence[DeviceRow]) -> Iterable[DeviceRow]:
    return rows


def write_report(rows: Sequence[DeviceRow], out: Path, *, fmt: Format = "html",
                 since: datetime.date | None = None, until: datetime.date | None = None,
                 source: str = "", by_return_date: bool = False,
                 campaigns: Sequence[CampaignRow] = (),
                 generated_at: datetime.datetime | None = None,
                 full: FullRows = _identity) -> list[Path]:
    """Write the report for ``rows`` into ``out`` (created); the files written
    (``by_return_date``: the period is one of return dates, not of triage dates;
    ``campaigns``: the stored campaigns the rows belong to, named in the report).

    ``rows`` may be light summaries (``ResultStore.results(light=True)``: what the index,
    the RFI figures and the charts read) when ``full`` yields each of them in full, in order
    (``ResultStore.full_results`` over their ids): the device pages, transcripts, CSVs and
    JSON are then written one device at a time, so memory stays flat at any size.

    html: index.html, devices/*.html and transcripts, results.csv, measurements.csv, rfi.csv.
    csv: the same CSVs and transcripts. json: results.json (period, RFI figures, devices).
    """
    out.mkdir(parents=True, exist_ok=True)
    figures = rfi_figures(rows)
    meta = ReportMeta(generated_at=(generated_at or datetime.datetime.now(datetime.UTC)),
                      version=meterbench_version(),
                      period=_period_text(since, until, by_return_date), source=source,
                      campaigns=campaign_views(campaigns, rows))
    if fmt == "json":
        head = {"generated_at": meta.generated_at.isoformat(), "meterbench": meta.version,
                "period": {"since": since.isoformat() if since else None,
                           "until": until.isoformat() if until else None,
                           "of": "return dates" if by_return_date else "triage dates"},
                "source": source,
                "campaigns": [{"id": c.row.id, "batch_name": c.row.batch_name,
                               "bench": c.row.bench, "emulated": c.emulated,
                               "emulated_known": c.row.emulated is not None}
                              for c in meta.campaigns],
                "rfi": figures.as_dict(),
                "reset_done": {"total": figures.total.reset_done,
                               "groups": {name: g.reset_done
                                          for name, g in figures.groups.items()}}}
        return [_write_json(out / "results.json", head, full(rows))]
    html = fmt == "html"
    if html:
        (out / TRANSCRIPT_FOLDER).mkdir(exist_ok=True)
    written: list[Path] = []
    measured: dict[int, AlertInfo] = {}
    by_campaign = {c.row.id: c for c in meta.campaigns}
    results_csv, measurements_csv = out / "results.csv", out / "measurements.csv"
    with results_csv.open("w", newline="", encoding="utf-8") as results_fh, \
            measurements_csv.open("w", newline="", encoding="utf-8") as measurements_fh:
        results = csv.DictWriter(results_fh, fieldnames=list(RESULT_FIELDS))
        measurements = csv.DictWriter(measurements_fh, fieldnames=list(MEASUREMENT_FIELDS))
        results.writeheader()
        measurements.writeheader()
        for row in full(rows):
            if (transcript := _write_transcript(row, out)) is not None:
                written.append(transcript)
            results.writerow(_result_row(row))
            measurements.writerows(_measurement_rows([row]))
            if html:
                measured |= {a.code: a for m in row.measurements
                             for a in alerts_in(m.value or "")}
                path = out / TRANSCRIPT_FOLDER / _device_file(row)
                path.write_text(_device_page(row, meta, by_campaign), encoding="utf-8")
                written.append(path)
    written += [results_csv, measurements_csv,
                _write_csv(out / "rfi.csv", RFI_FIELDS, _rfi_rows(figures))]
    if not html:
        return written
    index = out / "index.html"
    index.write_text(_index(rows, figures, meta, measured.values()), encoding="utf-8")
    written.append(index)
    return written


def verdict_counts(rows: Sequence[DeviceRow]) -> Counter[str]:
    """How many devices per verdict (for a summary line)."""
    return Counter(r.verdict for r in rows)
