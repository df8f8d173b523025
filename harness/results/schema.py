"""The results store's tables, its timestamps and its errors: what every store module shares.

``harness.results.store`` opens and writes the store; ``campaigns`` and ``browse`` read it;
this module holds what they all name, so none of them imports another's internals. Every
name here is also importable from ``harness.results.store`` (where callers have always found
them).
"""

from __future__ import annotations

import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import CursorResult

from harness.errors import MeterbenchError

metadata = MetaData()
campaign_table = Table(
    "campaign", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("bench", String(200), nullable=False),
    Column("operator", String(200), nullable=False),
    Column("role", String(40), nullable=False),
    Column("batch_name", String(400), nullable=False),
    Column("started", String(32), nullable=False),
    Column("finished", String(32)),
    Column("name", String(200)),  # facility mode: hosts join it by name; NULL otherwise
    Index("campaign_name_unique", "name", unique=True),
)
"""One row per campaign (a batch on a bench); ``finished`` stays NULL until it completes."""
device_result_table = Table(
    "device_result", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("campaign_id", Integer, ForeignKey("campaign.id"), nullable=False),
    Column("item_key", String(200), nullable=False),
    Column("slot", String(200)),
    Column("device_id", String(64)),
    Column("device_type", String(20), nullable=False),
    Column("model", String(200)),
    Column("label_id", String(200)),
    Column("verdict", String(20), nullable=False),
    Column("category", String(40)),
    Column("duis_return_reason", String(200)),
    Column("reset", Boolean, nullable=False),
    Column("why", Text, nullable=False),
    Column("started", String(32), nullable=False),
    Column("finished", String(32), nullable=False),
    Column("duration_s", Float, nullable=False),
    Column("operator", String(200), nullable=False),
    Column("role", String(40), nullable=False),
    Column("bench", String(200), nullable=False),
    Column("transcript", Text),
    Column("evidence", Text, nullable=False),
    # From the returns manifest (added later: NULL in older rows and in slot-mode results).
    Column("return_date", String(10)),  # YYYY-MM-DD
    Column("generation", String(10)),  # SMETS1 or SMETS2
    Column("bench_kind", String(10)),  # "emulated" or "physical"; NULL: not recorded (older)
    Column("mpxn", String(13)),  # the MPAN or MPRN the device was returned from (r0005)
    UniqueConstraint("campaign_id", "item_key", name="device_result_once_per_campaign"),
)
"""One row per device per campaign; ``evidence`` is the record's and verdict's JSON."""
measurement_table = Table(
    "measurement", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("device_result_id", Integer, ForeignKey("device_result.id"), nullable=False,
           index=True),
    Column("clause", String(40), nullable=False),
    Column("name", String(200), nullable=False),
    Column("value", Text),
    Column("numeric_value", Float),
    Column("unit", String(40), nullable=False),
    Column("low", Float),
    Column("high", Float),
    Column("expected", Text),
    Column("passed", Boolean, nullable=False),
)
"""Every measurement with its limits (``expected`` holds an equality or one-of limit)."""
current_trace_table = Table(
    "current_trace", metadata,
    Column("device_result_id", Integer, ForeignKey("device_result.id"), primary_key=True,
           autoincrement=False),
    Column("clause", String(40), nullable=False),
    Column("current_limit_a", Float),
    Column("sample_count", Integer, nullable=False),
    Column("samples", Text, nullable=False),
)
"""A device's current-draw trace, where captured: ``samples`` is JSON [[seconds, amps], ...].

One row per device (not one per sample): a trace is read whole, and a row per sample would
multiply the database's size by the hundred samples each device has."""
LATER_COLUMNS = ("return_date", "generation", "bench_kind", "mpxn")
"""``device_result`` columns added after the first schema: nullable, added on a write open
(migrations r0003 and r0005); a read-only open of an older database does without them."""
CORE_TABLES = frozenset({"campaign", "device_result", "measurement"})
"""The tables a results database has had from the start (``current_trace`` came later)."""

EMULATED, PHYSICAL = "emulated", "physical"
"""A result's ``bench_kind``: an emulated bench's devices are no lab's returns, so a report
leaves them out of a lab's figures unless asked (``meterbench report --emulated``)."""

INTERRUPTED = "INTERRUPTED"
"""The stored "verdict" of a device whose triage was stopped part way: redone on resume."""

_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


class ResultStoreError(MeterbenchError, RuntimeError):
    """The results database cannot be opened or used."""


class ResultStoreMissingError(ResultStoreError, FileNotFoundError):
    """There is no results database at that URL (and none was to be created)."""


def inserted_id(result: CursorResult[Any]) -> int:
    """The primary key of the one row a single-row INSERT made."""
    key = result.inserted_primary_key
    assert key is not None  # a single-row INSERT always reports its key
    return int(key[0])


def utc_text(when: datetime.datetime) -> str:
    """A sortable UTC timestamp (naive datetimes are taken as UTC)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.UTC)
    return when.astimezone(datetime.UTC).strftime(_TIME_FORMAT)


def parse_utc(text: str) -> datetime.datetime:
    """The inverse of :func:`utc_text`."""
    return datetime.datetime.strptime(text, _TIME_FORMAT).replace(tzinfo=datetime.UTC)

