"""One owner per bench in the whole facility, through the PostgreSQL results database.

A file lock (``harness.bench.lock``) guards a bench within one host; hosts sharing a
PostgreSQL store also need to agree across machines. The owner holds a session-level advisory
lock keyed by the bench's name on a connection of its own for as long as it has the bench (a
host that dies drops the connection, and PostgreSQL frees the lock at once), and writes who
it is, which campaign and which device into ``bench_holder``, what a refused host is told and
``meterbench status`` shows. On SQLite the file lock alone stays.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import time
from typing import Any

from sqlalchemy import Column, Connection, Float, Integer, String, Table, delete, select, update

from harness.errors import BenchLockedError
from harness.results.facility import db_now, host_name
from harness.results.store import ResultStore, metadata

bench_holder_table = Table(
    "bench_holder", metadata,
    Column("bench", String(200), primary_key=True),
    Column("host", String(200), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("since", Float, nullable=False),  # the database's clock, seconds since the epoch
    Column("heartbeat", Float, nullable=False),
    Column("campaign_id", Integer),
    Column("device", String(200)),  # the device on the bench now (item key), if any
    Column("purpose", String(200)),
    Column("stage", String(80)),  # the stage the device is in (r0007)
    Column("amps", Float),  # the device's current draw at the latest reading, amperes
    Column("device_since", Float),  # when the device came on the bench (database clock)
)
"""Who holds each bench (the last holder: ``held_benches`` says which are held now) and what
it is doing: device, stage, current draw (what the console shows of another host's bench)."""


def bench_key(bench: str) -> int:
    """The advisory lock key of a bench: a signed 64-bit hash of its name."""
    digest = hashlib.sha256(b"meterbench-bench:" + bench.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def held_benches(conn: Connection) -> set[int]:
    """The bench keys whose advisory lock some session holds now."""
    rows = conn.exec_driver_sql(
        "SELECT classid::bigint, objid::bigint FROM pg_locks "
        "WHERE locktype = 'advisory' AND granted AND objsubid = 1").all()
    found = set()
    for high, low in rows:
        value = (int(high) << 32) | int(low)
        found.add(value - (1 << 64) if value >= 1 << 63 else value)
    return found


def describe(row: Any) -> str:
    """A holder row as a refusal says it."""
    since = datetime.datetime.fromtimestamp(row.since, datetime.UTC)
    where = [f"campaign {row.campaign_id}"] if row.campaign_id is not None else []
    if row.device:
        where.append(f"device {row.device}")
    return (f"pid {row.pid} on {row.host} since {since:%Y-%m-%d %H:%M:%S} UTC"
            + (f" ({', '.join(where)})" if where else ""))


class FacilityBenchLock:
    """This process's ownership of a bench across the facility (PostgreSQL stores only)."""

    def __init__(self, store: ResultStore, bench: str, purpose: str = "") -> None:
        self.store = store
        self.bench = bench
        self.purpose = purpose
        self._conn: Connection | None = None
        self._device: str | None = None

    @staticmethod
    def applies(store: ResultStore) -> bool:
        """Whether the store can own benches across hosts (PostgreSQL)."""
        return store.url.get_backend_name() == "postgresql"

    def acquire(self, campaign_id: int | None = None) -> FacilityBenchLock:
        """Own the bench now, or BenchLockedError naming the holder (never waits)."""
        if self._conn is not None:
            return self
        conn = self.store._engine.connect()
        try:
            got = conn.exec_driver_sql(
                f"SELECT pg_try_advisory_lock({bench_key(self.bench)})").scalar_one()
            conn.commit()
            if not got:
                raise BenchLockedError(self._refusal(conn), bench=self.bench)
            t = bench_holder_table
            now = db_now(conn)
            conn.execute(delete(t).where(t.c.bench == self.bench))
            conn.execute(t.insert().values(
                bench=self.bench, host=host_name(), pid=os.getpid(), since=now, heartbeat=now,
                campaign_id=campaign_id, device=None, purpose=self.purpose or None))
            conn.commit()
            self._device = None
        except BaseException:
            conn.invalidate()  # closed for good: the advisory lock, if taken, goes with it
            conn.close()
            raise
        self._conn = conn
        return self

    def _refusal(self, conn: Connection) -> str:
        t = bench_holder_table
        deadline = time.monotonic() + 2.0  # a holder that has just locked writes its row next
        while True:
            row = conn.execute(select(t).where(t.c.bench == self.bench)).first()
            conn.rollback()
            if row is not None or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        who = describe(row) if row is not None else "another host (not yet recorded)"
        return f"bench {self.bench!r} is in use in the facility by {who}"

    def set_device(self, device: str | None, campaign_id: int | None = None) -> None:
        """Record the device now on the bench (and the campaign), with a heartbeat; a new
        device starts its time on the bench, with no stage or current reading yet."""
        if self._conn is None:
            return
        now = db_now(self._conn)
        values: dict[str, Any] = {"device": device, "heartbeat": now}
        if device != self._device:
            values.update(device_since=now if device else None, stage=None, amps=None)
            self._device = device
        if campaign_id is not None:
            values["campaign_id"] = campaign_id
        self._write(values)

    def set_live(self, *, stage: str | None = None, amps: float | None = None) -> None:
        """Record the stage the device has reached and/or its latest current draw, with a
        heartbeat (a value not given is left as it was)."""
        if self._conn is None:
            return
        values: dict[str, Any] = {"heartbeat": db_now(self._conn)}
        if stage is not None:
            values["stage"] = stage[:80]
        if amps is not None:
            values["amps"] = float(amps)
        self._write(values)

    def _write(self, values: dict[str, Any]) -> None:
        assert self._conn is not None
        t = bench_holder_table
        self._conn.execute(update(t).where(t.c.bench == self.bench, t.c.pid == os.getpid())
                           .values(**values))
        self._conn.commit()

    def release(self) -> None:
        """Give the bench up (idempotent); the holder row stays as the last holder."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            t = bench_holder_table
            conn.execute(update(t).where(t.c.bench == self.bench, t.c.pid == os.getpid())
                         .values(device=None, stage=None, amps=None, device_since=None))
            conn.exec_driver_sql(f"SELECT pg_advisory_unlock({bench_key(self.bench)})")
            conn.commit()
        finally:
            conn.close()
