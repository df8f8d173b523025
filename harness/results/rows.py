"""What a read of the results store returns: device results with their measurements and
current traces, built the same way for a report, the RFI figures and the console."""

from __future__ import annotations

import datetime
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select

from harness.results.schema import (
    EMULATED,
    ResultStoreError,
    current_trace_table,
    measurement_table,
    parse_utc,
)
from harness.triage.current_trace import CurrentTrace


@dataclass(frozen=True)
class MeasurementRow:
    """A stored measurement, as reports read it."""

    clause: str
    name: str
    value: str | None
    numeric_value: float | None
    unit: str
    low: float | None
    high: float | None
    expected: str | None
    passed: bool



@dataclass(frozen=True)
class DeviceRow:
    """A stored device result, as reports and the RFI figures read it."""

    id: int
    campaign_id: int
    item_key: str
    slot: str | None
    device_id: str | None
    device_type: str
    model: str | None
    label_id: str | None
    verdict: str
    category: str | None
    duis_return_reason: str | None
    reset: bool
    why: str
    started: datetime.datetime
    finished: datetime.datetime
    duration_s: float
    operator: str
    role: str
    bench: str
    transcript: str | None
    evidence: dict[str, Any]
    measurements: tuple[MeasurementRow, ...] = field(default=())
    current_trace: CurrentTrace | None = None
    return_date: datetime.date | None = None  # from the returns manifest, where it said
    generation: str | None = None  # SMETS1 or SMETS2; None when not recorded
    bench_kind: str | None = None  # EMULATED or PHYSICAL; None when not recorded
    mpxn: str | None = None  # the MPAN or MPRN of the returns manifest; None when not given

    @property
    def emulated(self) -> bool:
        """Whether an emulated bench triaged it (an emulated device, no lab's return)."""
        return self.bench_kind == EMULATED



def measurement_rows(conn: Connection, ids: Sequence[int]) -> dict[int, list[MeasurementRow]]:
    """The measurements of these device results, by result id, each in stored order."""
    by_result: dict[int, list[MeasurementRow]] = {}
    m = measurement_table
    for chunk in (ids[i:i + 500] for i in range(0, len(ids), 500)):
        for mr in conn.execute(select(m).where(m.c.device_result_id.in_(chunk))
                               .order_by(m.c.id)):
            by_result.setdefault(mr.device_result_id, []).append(MeasurementRow(
                mr.clause, mr.name, mr.value, mr.numeric_value, mr.unit, mr.low,
                mr.high, mr.expected, bool(mr.passed)))
    return by_result


def read_traces(conn: Connection, rows: Sequence[Any], shown_url: str) -> dict[int, CurrentTrace]:
    """The current traces of these device results, by result id (a damaged trace is a
    ResultStoreError naming the database, the result and the device)."""
    traces: dict[int, CurrentTrace] = {}
    keys = {r.id: r.item_key for r in rows}
    t = current_trace_table
    ids = list(keys)
    for chunk in (ids[i:i + 500] for i in range(0, len(ids), 500)):
        for tr in conn.execute(select(t).where(t.c.device_result_id.in_(chunk))):
            where = (f"{shown_url}: current_trace of device result "
                     f"{tr.device_result_id} ({keys[tr.device_result_id]})")
            try:
                traces[tr.device_result_id] = CurrentTrace.from_dict(
                    {"samples": json.loads(tr.samples), "clause": tr.clause,
                     "current_limit_a": tr.current_limit_a}, where)
            except ValueError as exc:  # json.JSONDecodeError is one too
                raise ResultStoreError(str(exc) if str(exc).startswith(where)
                                       else f"{where}: samples: {exc}") from None
    return traces


def device_row(r: Any, measurements: Sequence[MeasurementRow],
               trace: CurrentTrace | None = None) -> DeviceRow:
    """A stored ``device_result`` row as a DeviceRow (columns an older database lacks: None;
    a light read's row has no evidence, {}, and no transcript, None)."""
    return DeviceRow(
        id=r.id, campaign_id=r.campaign_id, item_key=r.item_key, slot=r.slot,
        device_id=r.device_id, device_type=r.device_type, model=r.model, label_id=r.label_id,
        verdict=r.verdict, category=r.category, duis_return_reason=r.duis_return_reason,
        reset=bool(r.reset), why=r.why, started=parse_utc(r.started),
        finished=parse_utc(r.finished), duration_s=r.duration_s, operator=r.operator,
        role=r.role, bench=r.bench, transcript=getattr(r, "transcript", None),
        evidence=json.loads(r.evidence) if getattr(r, "evidence", None) else {},
        measurements=tuple(measurements), current_trace=trace,
        return_date=(datetime.date.fromisoformat(r.return_date)
                     if getattr(r, "return_date", None) else None),
        generation=getattr(r, "generation", None), bench_kind=getattr(r, "bench_kind", None),
        mpxn=getattr(r, "mpxn", None))
