"""Facility mode: one named campaign worked by many bench hosts through the results database.

Hosts join a campaign by name (``join``); its devices form a shared queue, one ``claim`` row
per device. A host claims a device just before its triage starts (``claim``: a row lock taken
with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), so each device
is claimed by one host at a time; the claim carries a lease the live host renews (``renew``)
and that expires when the host dies, after which another host claims the device again and
the lost attempt is kept in the claim's ``lost`` history (never counted as a result). Times
are the database server's, so hosts with skewed clocks agree on when a lease ends. There is
no coordinator besides the database.
"""

from __future__ import annotations

import datetime
import enum
import json
import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    func,
    insert,
    literal,
    literal_column,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from harness.errors import MeterbenchError
from harness.results.store import (
    INTERRUPTED,
    ResultStore,
    campaign_table,
    device_result_table,
    metadata,
    utc_text,
)

WAITING, CLAIMED, DONE = "waiting", "claimed", "done"
"""A device's place in the queue."""
DEFAULT_LEASE_S = 120.0
"""How long a claim outlives its host's last renewal (a live host renews every third of it)."""

claim_table = Table(
    "claim", metadata,
    Column("campaign_id", Integer, ForeignKey("campaign.id"), primary_key=True),
    Column("item_key", String(200), primary_key=True),
    Column("state", String(12), nullable=False),
    Column("host", String(200)),
    Column("bench", String(200)),
    Column("pid", Integer),
    Column("claimed_at", Float),  # the database's clock, seconds since the epoch
    Column("lease_until", Float),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("lost", Text),  # JSON list of attempts whose lease expired (host, bench, times)
    Index("claim_by_state", "campaign_id", "state"),
)
"""One row per device of a facility campaign: who claimed it and until when (migration r0004)."""


class FacilityError(MeterbenchError, RuntimeError):
    """A facility campaign cannot be joined or worked (wrong batch, no store support)."""


class Outcome(enum.Enum):
    """What a claim attempt found."""

    CLAIMED = "claimed"  # this host triages it now
    DONE = "done"  # triaged already (by any host)
    HELD = "held"  # another live host has it (or is claiming it this instant)


@dataclass(frozen=True)
class Claim:
    """The answer to a claim: the outcome, and for HELD who holds it."""

    outcome: Outcome
    key: str
    holder: str | None = None  # "host pid N on bench B" when HELD
    lease_left_s: float | None = None
    retaken_from: str | None = None  # CLAIMED from a host whose lease expired: who it was


def host_name() -> str:
    """This host's name as claims record it."""
    return socket.gethostname()


def now_sql(dialect: str) -> Any:
    """The database server's clock as an SQL expression, seconds since the epoch."""
    if dialect == "postgresql":
        return literal_column("extract(epoch from clock_timestamp())", Float)
    if dialect == "sqlite":
        return literal_column("((julianday('now') - 2440587.5) * 86400.0)", Float)
    import time

    return literal(time.time(), Float)


def db_now(conn: Connection) -> float:
    """The database server's clock, in seconds since the epoch (one clock for all hosts)."""
    return float(conn.execute(select(now_sql(conn.dialect.name))).scalar_one())


def _insert_ignoring_duplicates(conn: Connection, table: Table, rows: list[dict[str, Any]]
                                ) -> None:
    """INSERT rows, skipping those whose key exists (another host inserted them first)."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        conn.execute(pg_insert(table).on_conflict_do_nothing(), rows)
    elif conn.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        conn.execute(sqlite_insert(table).on_conflict_do_nothing(), rows)
    else:
        conn.execute(insert(table).prefix_with("IGNORE"), rows)


class Facility:
    """One host's view of a facility campaign: join it, claim devices, renew, release."""

    def __init__(self, store: ResultStore, *, bench: str, lease_s: float = DEFAULT_LEASE_S,
                 host: str | None = None, pid: int | None = None) -> None:
        if not lease_s > 0:
            raise FacilityError(f"lease {lease_s!r} s: expected a number of seconds above 0")
        self.store = store
        self.bench = bench
        self.lease_s = float(lease_s)
        self.host = host or host_name()
        self.pid = os.getpid() if pid is None else pid
        self.campaign_id: int | None = None
        self._engine = store._engine

    @property
    def me(self) -> str:
        """This host as a holder is shown."""
        return f"{self.host} pid {self.pid} on bench {self.bench}"

    # joining --------------------------------------------------------------------------------

    def join(self, name: str, *, batch_name: str, keys: Iterable[str], operator: str,
             role: str) -> int:
        """The campaign named ``name`` (made by the first host to ask), with every device of
        ``keys`` in its queue; its id. Hosts joining at once get the same campaign."""
        if not name.strip():
            raise FacilityError("--campaign: the campaign name is empty")
        t = campaign_table
        now = utc_text(datetime.datetime.now(datetime.UTC))
        for _ in range(2):  # the loser of a race to create it finds it the second time
            with self._engine.begin() as conn:
                row = conn.execute(select(t.c.id, t.c.batch_name).where(t.c.name == name)).first()
                if row is None:
                    try:
                        with conn.begin_nested():
                            made = conn.execute(insert(t).values(
                                name=name, bench="facility", operator=operator, role=role,
                                batch_name=batch_name, started=now)).inserted_primary_key
                        assert made is not None  # a single-row INSERT reports its key
                        cid = int(made[0])
                    except IntegrityError:
                        continue
                else:
                    if row.batch_name != batch_name:
                        raise FacilityError(
                            f"campaign {name!r} triages batch {row.batch_name!r}, not "
                            f"{batch_name!r}: join it with the same batch, or name another "
                            "campaign", campaign=name)
                    cid = int(row.id)
                c = claim_table
                have = set(conn.execute(select(c.c.item_key).where(
                    c.c.campaign_id == cid)).scalars())
                _insert_ignoring_duplicates(conn, c, [
                    {"campaign_id": cid, "item_key": k, "state": WAITING, "attempts": 0}
                    for k in keys if k not in have])
            self.campaign_id = cid
            return cid
        raise FacilityError(f"campaign {name!r}: could not create or find it")

    def finished(self) -> bool:
        """Whether every device of the campaign is done."""
        c = claim_table
        with self._engine.connect() as conn:
            left = conn.execute(select(func.count()).select_from(c).where(
                c.c.campaign_id == self._cid(), c.c.state != DONE)).scalar_one()
            conn.rollback()
        return int(left) == 0

    def _cid(self) -> int:
        if self.campaign_id is None:
            raise FacilityError("join a campaign first")
        return self.campaign_id

    # claiming -------------------------------------------------------------------------------

    def claim(self, key: str) -> Claim:
        """Claim device ``key`` for this host if it is waiting, or its holder's lease expired;
        never waits for another host's transaction (SKIP LOCKED: it is being claimed)."""
        c, d = claim_table, device_result_table
        cid = self._cid()
        with self._engine.begin() as conn:
            query = select(c, now_sql(conn.dialect.name).label("now")).where(
                c.c.campaign_id == cid, c.c.item_key == key)
            if conn.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            row = conn.execute(query).first()
            if row is None:
                exists = conn.execute(select(c.c.state).where(
                    c.c.campaign_id == cid, c.c.item_key == key)).first()
                if exists is None:
                    raise FacilityError(f"device {key} is not in the campaign's queue")
                return Claim(Outcome.HELD, key, holder="another host (claiming it now)")
            if row.state == DONE:
                return Claim(Outcome.DONE, key)
            now = float(row.now)
            mine = row.host == self.host and row.pid == self.pid
            if row.state == CLAIMED and not mine and (row.lease_until or 0) > now:
                return Claim(Outcome.HELD, key, holder=_holder(row),
                             lease_left_s=(row.lease_until or now) - now)
            # Only a claimed device can have a result its host had no time to release.
            if row.state == CLAIMED and conn.execute(select(d.c.id).where(
                    d.c.campaign_id == cid, d.c.item_key == key,
                    d.c.verdict != INTERRUPTED)).first():
                conn.execute(update(c).where(c.c.campaign_id == cid, c.c.item_key == key)
                             .values(state=DONE))  # its host recorded it, then died
                return Claim(Outcome.DONE, key)
            lost = json.loads(row.lost) if row.lost else []
            retaken = None
            if row.state == CLAIMED and not mine:  # the holder stopped renewing: it is gone
                retaken = _holder(row)
                lost.append({"host": row.host, "pid": row.pid, "bench": row.bench,
                             "claimed_at": row.claimed_at, "lease_until": row.lease_until,
                             "retaken_at": now, "by": self.me})
            conn.execute(update(c).where(c.c.campaign_id == cid, c.c.item_key == key).values(
                state=CLAIMED, host=self.host, pid=self.pid, bench=self.bench,
                claimed_at=now, lease_until=now + self.lease_s, attempts=row.attempts + 1,
                lost=json.dumps(lost) if lost else None))
        return Claim(Outcome.CLAIMED, key, retaken_from=retaken)

    def renew(self) -> int:
        """Extend the lease of every device this host holds; how many it holds."""
        c = claim_table
        with self._engine.begin() as conn:
            now = db_now(conn)
            done = conn.execute(update(c).where(
                c.c.campaign_id == self._cid(), c.c.state == CLAIMED, c.c.host == self.host,
                c.c.pid == self.pid).values(lease_until=now + self.lease_s))
            return int(done.rowcount)

    def release(self, key: str, *, done: bool) -> None:
        """Give a device back: DONE once its result is recorded, else WAITING (an interrupted
        triage: another host, or this one later, claims it again)."""
        c = claim_table
        with self._engine.begin() as conn:
            conn.execute(update(c).where(
                c.c.campaign_id == self._cid(), c.c.item_key == key, c.c.host == self.host,
                c.c.pid == self.pid, c.c.state == CLAIMED).values(
                state=DONE if done else WAITING,
                lease_until=None if not done else c.c.lease_until))

    def waiting_on_others(self) -> int:
        """How many devices other live hosts hold (this host waits for them: one that dies
        leaves its device to be claimed here after the lease)."""
        c = claim_table
        with self._engine.begin() as conn:
            return int(conn.execute(select(func.count()).select_from(c).where(
                c.c.campaign_id == self._cid(), c.c.state == CLAIMED)).scalar_one())


def _holder(row: Any) -> str:
    return f"{row.host} pid {row.pid} on bench {row.bench}"
