"""The report's HTML pages, rendered from Jinja2 templates shipped in ``harness/results/templates``.

Every page is self-contained (its style and script inline, charts as data: URIs), so the report
folder opens offline, mailed or archived as is. The filters here are the one place a value
becomes page text: datetimes and floats as the CSV writes them, booleans as yes/no everywhere,
and GBCS alert codes followed by their names from ``harness.protocols.gbcs_alerts``.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from harness.protocols.gbcs_alerts import ALERTS, AlertInfo
from harness.results.store import CampaignRow, DeviceRow

ALERT_CODE = re.compile(r"\b0x([0-9A-Fa-f]{4})\b")
"""How a GBCS alert code is written in a verdict's why, a finding or a measured value."""


def cell(value: Any) -> str:
    """A value as the report and its CSV write it: booleans yes/no, times to the second."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, float):
        return f"{value:.6g}"
    return "" if value is None else str(value)


def stored_text(value: str | None) -> str:
    """A measurement's stored value or limit, readable: ``True``/``False`` as yes/no, a quoted
    string limit unquoted and an empty one as "(empty)"."""
    if value is None:
        return ""
    if value in ("True", "False"):
        return "yes" if value == "True" else "no"
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1] or "(empty)"
    return value


def alerts_in(text: str) -> list[AlertInfo]:
    """The known GBCS alert codes ``text`` names, in order, each once."""
    seen: dict[int, AlertInfo] = {}
    for match in ALERT_CODE.finditer(text):
        info = ALERTS.get(int(match.group(1), 16))
        if info is not None:
            seen.setdefault(info.code, info)
    return list(seen.values())


def with_alert_names(value: Any) -> Markup:
    """Escaped text with each known alert code followed by its GBCS name:
    ``0x8F74`` becomes ``0x8F74 (unauthorised physical access: meter cover)``."""
    text = cell(value)
    out: list[str] = []
    last = 0
    for match in ALERT_CODE.finditer(text):
        info = ALERTS.get(int(match.group(1), 16))
        if info is None:
            continue
        out.append(str(escape(text[last:match.end()])))
        out.append(f' <span class="alert-name">({escape(info.name)})</span>')
        last = match.end()
    out.append(str(escape(text[last:])))
    return Markup("".join(out))


@cache
def environment() -> Environment:
    """The Jinja2 environment over the packaged templates (HTML autoescaped, strict names)."""
    env = Environment(loader=PackageLoader("harness.results", "templates"),
                      autoescape=select_autoescape(["html"]), undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["cell"] = cell
    env.filters["stored"] = stored_text
    env.filters["alerts"] = with_alert_names
    return env


@dataclass(frozen=True)
class ReportMeta:
    """What every page says of the report itself: when, by which meterbench, of what."""

    generated_at: datetime.datetime
    version: str
    period: str
    source: str
    campaigns: tuple[CampaignView, ...]


@dataclass(frozen=True)
class CampaignView:
    """A campaign as the report shows it, with how its emulated state is known."""

    row: CampaignRow
    devices: int
    emulated: bool
    emulated_text: str

    @property
    def label(self) -> str:
        """``#3 returns-week-12.csv`` (the batch name, or the bench when there was no batch)."""
        return f"#{self.row.id} {self.row.batch_name or self.row.bench}"


def render(template: str, **context: Any) -> str:
    """One page from its template."""
    return environment().get_template(template).render(**context)


def device_context(row: DeviceRow) -> list[tuple[str, Any]]:
    """The device page's facts, label and value (the values go through ``cell``)."""
    return [("Item", row.item_key), ("Device ID", row.device_id), ("Type", row.device_type),
            ("Model", row.model), ("Label", row.label_id),
            *([("MPxN", row.mpxn)] if row.mpxn else []), ("Verdict", row.verdict),
            ("Category", row.category), ("DUIS return reason", row.duis_return_reason),
            ("Reset done", row.reset), ("Started", row.started), ("Finished", row.finished),
            ("Triage time (s)", row.duration_s), ("Operator", f"{row.operator} ({row.role})"),
            ("Bench", row.bench)]
