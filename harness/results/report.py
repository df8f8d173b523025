"""Reports from the results store: HTML (RFI table, charts, a page per device), CSV, JSON.

The HTML is a self-contained directory: ``index.html`` with the RFI figures and matplotlib
PNG charts embedded as base64 (so the report can be mailed or archived as is), one page per
device under ``devices/`` with its measurements, limits and pass/fail (and its current-draw
trace from power-on, where captured), and ``results.csv``.
"""

from __future__ import annotations

import base64
import csv
import datetime
import html
import io
import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from harness.results.rfi import ORDER, RfiFigures, group_of, rfi_figures
from harness.results.store import DeviceRow

Format = Literal["html", "csv", "json"]
VERDICTS = ("NO_FAULT_FOUND", "FAULT", "INCONCLUSIVE", "SKIPPED", "ABORTED")
RESULT_FIELDS = ("item_key", "campaign_id", "bench", "device_type", "device_id", "model",
                 "label_id", "verdict", "category", "duis_return_reason", "reset", "why",
                 "started", "finished", "duration_s", "operator", "role", "transcript",
                 "generation", "return_date")
RFI_FIELDS = ("generation", "group", "returned", "needed_reset", "no_fault_found", "fault",
              "inconclusive", "not_triaged")
ALL_GENERATIONS = "all"
"""The ``generation`` of the RFI rows that count every generation together."""
MEASUREMENT_FIELDS = ("item_key", "device_id", "clause", "name", "value", "unit", "low",
                      "high", "expected", "passed")
_STYLE = ("body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
          "td,th{border:1px solid #bbb;padding:2px 8px;text-align:left}"
          ".FAIL,.FAULT{color:#b00}.PASS,.NO_FAULT_FOUND{color:#070}.INCONCLUSIVE{color:#a60}")


def _cell(value: Any) -> str:
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, float):
        return f"{value:.6g}"
    return "" if value is None else str(value)


def _result_row(row: DeviceRow) -> dict[str, str]:
    return {name: _cell(getattr(row, name)) for name in RESULT_FIELDS}


def _measurement_rows(rows: Sequence[DeviceRow]) -> list[dict[str, str]]:
    out = []
    for row in rows:
        for m in row.measurements:
            out.append({"item_key": row.item_key, "device_id": _cell(row.device_id),
                        "clause": m.clause, "name": m.name, "value": _cell(m.value),
                        "unit": m.unit, "low": _cell(m.low), "high": _cell(m.high),
                        "expected": _cell(m.expected), "passed": str(m.passed)})
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
        rows.append({"generation": gen, "group": name, "returned": str(g.returned),
                     "needed_reset": str(g.needed_reset),
                     "no_fault_found": str(g.no_fault_found), "fault": str(g.fault),
                     "inconclusive": str(g.inconclusive), "not_triaged": str(g.not_triaged)})
    return rows


def _period_text(since: datetime.date | None, until: datetime.date | None,
                 by_return_date: bool = False) -> str:
    if since is None and until is None:
        return "all results"
    what = "devices returned" if by_return_date else "devices triaged"
    return f"{what} {since.isoformat() if since else 'from the start'} to " \
           f"{until.isoformat() if until else 'now'} (UTC, inclusive)"


# charts ------------------------------------------------------------------------------------

def _png(fig: Any) -> str:
    """The figure as a base64 PNG, and the figure closed (charts are made by the hundred)."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _charts(rows: Sequence[DeviceRow], figures: RfiFigures) -> dict[str, str]:
    """Verdicts by type, fault categories, triage time distribution: title -> base64 PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    charts: dict[str, str] = {}
    groups = [g for g in ORDER if g in figures.groups]
    fig, ax = plt.subplots(figsize=(7, 3.5))
    bottom = [0] * len(groups)
    colours = {"NO_FAULT_FOUND": "#4a4", "FAULT": "#c33", "INCONCLUSIVE": "#e90",
               "SKIPPED": "#999", "ABORTED": "#636"}
    for verdict in VERDICTS:
        counts = [sum(1 for r in rows if group_of(r.device_type) == g and r.verdict == verdict)
                  for g in groups]
        ax.bar(groups, counts, bottom=bottom, label=verdict, color=colours[verdict])
        bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    ax.set_ylabel("devices")
    ax.legend()
    charts["Verdicts by device type"] = _png(fig)

    cats = figures.faults_by_category.most_common()
    fig, ax = plt.subplots(figsize=(7, max(2.0, 0.4 * len(cats) + 1)))
    if cats:
        ax.barh([c for c, _ in reversed(cats)], [n for _, n in reversed(cats)], color="#c33")
    else:
        ax.text(0.5, 0.5, "no faults", ha="center", va="center")
    ax.set_xlabel("devices")
    charts["Fault categories"] = _png(fig)

    fig, ax = plt.subplots(figsize=(7, 3))
    ax.hist([r.duration_s for r in rows] or [0.0], bins=min(30, max(5, len(rows) // 5)),
            color="#48c")
    ax.set_xlabel("triage time per device (s)")
    ax.set_ylabel("devices")
    charts["Triage time distribution"] = _png(fig)
    return charts


IDLE_ENVELOPE_MEASUREMENT = "standby_current"
"""The measurement whose limits are the model's idle envelope (TRI-PWR-02, test_25_standby)."""


def _idle_envelope(row: DeviceRow) -> tuple[float, float] | None:
    """The idle current envelope the device was held to, from its stored measurement."""
    for m in row.measurements:
        if m.name == IDLE_ENVELOPE_MEASUREMENT and m.low is not None and m.high is not None:
            return m.low, m.high
    return None


def _trace_chart(row: DeviceRow) -> str | None:
    """The device's current-draw trace from power-on with its limits, or None if not captured.

    A symmetric-log current axis: inrush (hundreds of mA), idle (down to 0.1 mA for a gas
    meter) and an unpowered 0 A all show. Limits drawn where known: the supply's current limit
    during capture and the model's idle envelope (the standby measurement's limits).
    """
    trace = row.current_trace
    if trace is None:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 3))
    ax.plot([t for t, _ in trace.samples], trace.amps, color="#48c", marker=".",
            markersize=3, linewidth=1, label="supply current")
    envelope = _idle_envelope(row)
    if envelope is not None:
        ax.axhspan(*envelope, color="#4a4", alpha=0.2,
                   label=f"idle envelope {envelope[0]:.4g}–{envelope[1]:.4g} A")
    if trace.current_limit_a is not None:
        ax.axhline(trace.current_limit_a, color="#c33", linestyle="--",
                   label=f"supply current limit {trace.current_limit_a:.4g} A")
    ax.set_yscale("symlog", linthresh=1e-5)
    ax.set_xlim(left=min(0.0, trace.samples[0][0]))  # from power-on
    ax.set_xlabel("seconds since power-on")
    ax.set_ylabel("current (A)")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1))  # hides no data
    return _png(fig)


# html --------------------------------------------------------------------------------------

def _table(headers: Sequence[str], rows: Sequence[Sequence[str]],
           classes: Sequence[str] | None = None) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = []
    for i, row in enumerate(rows):
        cls = f' class="{html.escape(classes[i])}"' if classes else ""
        body.append(f"<tr{cls}>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _page(title: str, body: str) -> str:
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
            f"</title><style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>"
            f"{body}</body></html>")


def _device_page(row: DeviceRow) -> str:
    e = html.escape
    facts = [("Item", row.item_key), ("Device ID", row.device_id), ("Type", row.device_type),
             ("Model", row.model), ("Label", row.label_id), ("Verdict", row.verdict),
             ("Category", row.category), ("DUIS return reason", row.duis_return_reason),
             ("Reset", row.reset), ("Why", row.why), ("Started", row.started),
             ("Finished", row.finished), ("Triage time (s)", row.duration_s),
             ("Operator", f"{row.operator} ({row.role})"), ("Bench", row.bench),
             ("Campaign", row.campaign_id)]
    cells = [(e(k), e(_cell(v))) for k, v in facts]
    if row.transcript:
        lines = row.transcript.count("\n") + 1
        cells.append(("Transcript", f"<a href='{e(_transcript_file(row))}'>instrument "
                                    f"transcript</a> ({lines} lines)"))
    parts = [_table(("", ""), cells),
             "<h2>Measurements</h2>"]
    if row.measurements:
        parts.append(_table(
            ("Clause", "Measurement", "Value", "Unit", "Low", "High", "Expected", "Result"),
            [(e(m.clause), e(m.name), e(_cell(m.value)), e(m.unit), e(_cell(m.low)),
              e(_cell(m.high)), e(_cell(m.expected)),
              f"<span class='{'PASS' if m.passed else 'FAIL'}'>"
              f"{'PASS' if m.passed else 'FAIL'}</span>") for m in row.measurements]))
    else:
        parts.append("<p>No measurements recorded.</p>")
    findings = row.evidence.get("findings") or []
    if findings:
        parts.append("<h2>Findings</h2>" + _table(
            ("Clause", "Category", "Evidence"),
            [(e(str(f.get("clause"))), e(str(f.get("category"))), e(str(f.get("evidence"))))
             for f in findings]))
    chart = _trace_chart(row)
    if chart and row.current_trace is not None:
        t = row.current_trace
        parts.append(f"<h2>Current draw</h2><p>{e(t.clause)}: {len(t.samples)} samples from "
                     f"{t.samples[0][0]:.3g} s to {t.samples[-1][0]:.3g} s after power-on, "
                     f"peak {t.peak_a:.4g} A.</p><img alt='Current draw from power-on' "
                     f"src='data:image/png;base64,{chart}'>")
    parts.append("<p><a href='../index.html'>Back to the report</a></p>")
    return _page(f"{row.device_type} {row.device_id or row.item_key}", "".join(parts))


def _device_file(row: DeviceRow) -> str:
    return f"device-{row.id}.html"


def _transcript_file(row: DeviceRow) -> str:
    return f"device-{row.id}-transcript.txt"


def _index(rows: Sequence[DeviceRow], figures: RfiFigures, period: str, source: str) -> str:
    e = html.escape
    parts = [f"<p>Period: {e(period)}. Source: {e(source)}. {len(rows)} device(s).</p>",
             "<h2>RFI figures</h2>",
             _table(("Generation", "Devices", "Returned", "Needed reset", "No fault found",
                     "Fault", "Inconclusive", "Not triaged"),
                    [(e(r["generation"]), e(r["group"]), r["returned"], r["needed_reset"],
                      r["no_fault_found"],
                      r["fault"], r["inconclusive"], r["not_triaged"])
                     for r in _rfi_rows(figures)]),
             "<h2>Faults by category</h2>"]
    cats = figures.faults_by_category.most_common()
    parts.append(_table(("Category", "Devices"), [(e(c), str(n)) for c, n in cats])
                 if cats else "<p>No faults.</p>")
    if rows:
        for title, png in _charts(rows, figures).items():
            parts.append(f"<h2>{e(title)}</h2><img alt='{e(title)}' "
                         f"src='data:image/png;base64,{png}'>")
    parts.append("<h2>Devices</h2>")
    parts.append(_table(
        ("Item", "Device ID", "Type", "Verdict", "Category", "Reset", "Finished", "Bench"),
        [(f"<a href='devices/{_device_file(r)}'>{e(r.item_key)}</a>", e(_cell(r.device_id)),
          e(r.device_type), e(r.verdict), e(_cell(r.category)), "yes" if r.reset else "no",
          e(_cell(r.finished)), e(r.bench)) for r in rows],
        classes=[r.verdict for r in rows]))
    parts.append("<p>Data: <a href='results.csv'>results.csv</a>, "
                 "<a href='measurements.csv'>measurements.csv</a></p>")
    return _page("meterbench triage report", "".join(parts))


def write_report(rows: Sequence[DeviceRow], out: Path, *, fmt: Format = "html",
                 since: datetime.date | None = None, until: datetime.date | None = None,
                 source: str = "", by_return_date: bool = False) -> list[Path]:
    """Write the report for ``rows`` into ``out`` (created); the files written
    (``by_return_date``: the period is one of return dates, not of triage dates).

    html: index.html, devices/*.html, results.csv, measurements.csv. csv: results.csv,
    measurements.csv, rfi.csv. json: results.json (period, RFI figures, devices).
    """
    out.mkdir(parents=True, exist_ok=True)
    figures = rfi_figures(rows)
    period = _period_text(since, until, by_return_date)
    written: list[Path] = []
    if fmt == "json":
        data = {"period": {"since": since.isoformat() if since else None,
                           "until": until.isoformat() if until else None,
                           "of": "return dates" if by_return_date else "triage dates"},
                "source": source, "rfi": figures.as_dict(),
                "devices": [{**_result_row(r), "reset": r.reset, "duration_s": r.duration_s,
                             "measurements": [m.__dict__ for m in r.measurements],
                             "current_trace": r.current_trace.as_dict() if r.current_trace
                             else None}
                            for r in rows]}
        path = out / "results.json"
        path.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
        return [path]
    written.append(_write_csv(out / "results.csv", RESULT_FIELDS,
                              [_result_row(r) for r in rows]))
    written.append(_write_csv(out / "measurements.csv", MEASUREMENT_FIELDS,
                              _measurement_rows(rows)))
    if fmt == "csv":
        written.append(_write_csv(out / "rfi.csv", RFI_FIELDS, _rfi_rows(figures)))
        return written
    devices = out / "devices"
    devices.mkdir(exist_ok=True)
    for row in rows:
        path = devices / _device_file(row)
        if row.transcript:  # what the instruments exchanged with this device, beside its page
            log = devices / _transcript_file(row)
            log.write_text(row.transcript, encoding="utf-8")
            written.append(log)
        path.write_text(_device_page(row), encoding="utf-8")
        written.append(path)
    index = out / "index.html"
    index.write_text(_index(rows, figures, period, source), encoding="utf-8")
    written.append(index)
    return written


def verdict_counts(rows: Sequence[DeviceRow]) -> Counter[str]:
    """How many devices per verdict (for a summary line)."""
    return Counter(r.verdict for r in rows)
