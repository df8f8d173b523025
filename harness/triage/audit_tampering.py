"""Nine ways an insider with write access to a SQLite audit log tampers with it, in plain SQL.

The reference attacks for tests/triage/test_audit_tampering.py and
benchmarks/audit_tampering.py (issue 12, section 4).  The insider can write the database
file, knows the algorithm (it is published here) but not the audit key; in cases 1 to 8 the
insider drops the append-only triggers to edit and puts them back afterwards, so only the
keyed chain, the head's MAC or the checkpoint can tell.  Case 8's rewrite is made by the
key holder through the harness itself, which nothing inside the database can tell apart:
the checkpoint taken before does.
"""

from __future__ import annotations

import dataclasses
import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.triage.audit import AuditLog, Outcome, _entry, head_mac
from harness.triage.audit_checkpoint import write_checkpoint
from harness.triage.audit_db import SQLITE_APPEND_ONLY
from harness.triage.audit_key import AuditKey, create_key_file

ENTRIES = 20
"""Entries in each fresh log the cases are applied to."""


@dataclass
class Scene:
    """A fresh keyed log: its file, key, checkpoint file and the head rows it has had."""

    db: Path
    key: AuditKey
    checkpoints: Path
    heads: dict[int, tuple[Any, ...]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        """The log's SQLAlchemy URL."""
        return f"sqlite:///{self.db}"


def _append(log: AuditLog, i: int, twist: int | None = None) -> None:
    """Entry ``i``: odd ones STARTED, even ones DONE for the same device (FAILED at ``twist``)."""
    outcome = Outcome.STARTED if i % 2 else Outcome.DONE
    if i == twist:
        outcome = Outcome.FAILED
    log.append(operator="ann", role="supplier", bench="bench-1",
               device_id=f"00DB1200000000{(i + 1) // 2:02d}", clause="TRI-RST-01",
               action="reset", outcome=outcome, detail={"i": i})


def make_scene(folder: Path, n: int = ENTRIES) -> Scene:
    """A new ``n``-entry log in ``folder`` with its own key, checkpointed at its end; every
    head row it had is kept (what an old backup of the database would hold)."""
    folder.mkdir(parents=True, exist_ok=True)
    scene = Scene(folder / "audit.db", create_key_file(folder / "audit.key"),
                  folder / "checkpoints.jsonl")
    with AuditLog.open(scene.url, create=True, key=scene.key) as log:
        for i in range(1, n + 1):
            _append(log, i)
            conn = sqlite3.connect(scene.db)
            scene.heads[i] = conn.execute("SELECT * FROM audit_head").fetchone()
            conn.close()
        write_checkpoint(log, scene.checkpoints)
    return scene


def _sql(db: Path, *statements: str, params: tuple[Any, ...] = ()) -> None:
    """Run statements as the insider: triggers dropped first, put back after."""
    conn = sqlite3.connect(db)
    try:
        conn.execute("DROP TRIGGER IF EXISTS audit_entries_no_update")
        conn.execute("DROP TRIGGER IF EXISTS audit_entries_no_delete")
        for statement in statements:
            conn.execute(statement, params if "?" in statement else ())
        for ddl in SQLITE_APPEND_ONLY:
            conn.execute(ddl)
        conn.commit()
    finally:
        conn.close()


def _forge_from(db: Path, first: int, attacker: AuditKey) -> None:
    """Recompute every tag from entry ``first`` on, and the head, as the algorithm says, with
    the insider's own key (the only one the insider has)."""
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        conn.execute("DROP TRIGGER IF EXISTS audit_entries_no_update")
        rows = conn.execute("SELECT * FROM audit_entries ORDER BY seq").fetchall()
        prev = "0" * 64
        for row in rows:
            if row["seq"] >= first:
                entry = dataclasses.replace(_entry(_Row(row)), prev_hash=prev)
                tag = entry.computed_hash(attacker)
                conn.execute("UPDATE audit_entries SET prev_hash = ?, hash = ? WHERE seq = ?",
                             (prev, tag, row["seq"]))
                prev = tag
            else:
                prev = row["hash"]
        head = conn.execute("SELECT * FROM audit_head").fetchone()
        count = rows[-1]["seq"] if rows else 0
        conn.execute("UPDATE audit_head SET count = ?, last_hash = ?, mac = ?",
                     (count, prev, head_mac(attacker, count, prev, head["created_at"],
                                            head["key_id"], head["log_id"])))
        conn.execute(SQLITE_APPEND_ONLY[0])
        conn.commit()
    finally:
        conn.close()


class _Row:
    """Attribute access to a sqlite3.Row, as :func:`_entry` reads a row."""

    def __init__(self, row: sqlite3.Row) -> None:
        self._row = row

    def __getattr__(self, name: str) -> Any:
        return self._row[name]


def _attacker_key(_scene: Scene) -> AuditKey:
    """The insider's own key: the algorithm is public, the site key is not."""
    return AuditKey(b"\x42" * 32, "insider's guess")


def edit_entry(scene: Scene) -> None:
    """1: an entry's content changed (its outcome and operator)."""
    _sql(scene.db, "UPDATE audit_entries SET outcome = 'failed', operator = 'eve' WHERE seq = 8")


def delete_middle(scene: Scene) -> None:
    """2: a middle entry deleted."""
    _sql(scene.db, "DELETE FROM audit_entries WHERE seq = 10")


def delete_last(scene: Scene) -> None:
    """3: the last entry deleted, the head left as it was."""
    _sql(scene.db, f"DELETE FROM audit_entries WHERE seq = {ENTRIES}")


def truncate_with_head(scene: Scene) -> None:
    """4: the last 5 entries deleted and the head row put back as it was at entry 15 (a row
    kept from a backup, its MAC valid): only the checkpoint can tell."""
    keep = ENTRIES - 5
    _sql(scene.db, f"DELETE FROM audit_entries WHERE seq > {keep}", "DELETE FROM audit_head",
         "INSERT INTO audit_head VALUES (?, ?, ?, ?, ?, ?, ?)", params=scene.heads[keep])


def edit_and_recompute(scene: Scene) -> None:
    """5: an entry edited and every tag after it recomputed, the head too (without the key)."""
    _sql(scene.db, "UPDATE audit_entries SET outcome = 'done' WHERE seq = 7")
    _forge_from(scene.db, 7, _attacker_key(scene))


def delete_renumber_recompute(scene: Scene) -> None:
    """6: a middle entry deleted, the later ones renumbered, the chain and head recomputed."""
    _sql(scene.db, "DELETE FROM audit_entries WHERE seq = 10",
         "UPDATE audit_entries SET seq = seq - 1 WHERE seq > 10")
    _forge_from(scene.db, 10, _attacker_key(scene))


def edit_head(scene: Scene) -> None:
    """7: the head row edited to end the log one entry early (count and last tag)."""
    _sql(scene.db, "UPDATE audit_head SET count = count - 1, last_hash = "
         f"(SELECT hash FROM audit_entries WHERE seq = {ENTRIES - 1})")


def replace_whole_log(scene: Scene) -> None:
    """8: the whole log replaced by a consistent rewrite (made with the key, through the
    harness, entry 8 saying FAILED): every tag and the head verify."""
    other = scene.db.parent / "rewrite"
    other.mkdir()
    with AuditLog.open(f"sqlite:///{other / 'audit.db'}", create=True, key=scene.key) as log:
        for i in range(1, ENTRIES + 1):
            _append(log, i, twist=8)
    for suffix in ("-wal", "-shm"):
        Path(f"{scene.db}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(other / "audit.db", scene.db)


def drop_trigger_and_update(scene: Scene) -> None:
    """9: the append-only trigger dropped, a row updated, and the trigger left dropped."""
    conn = sqlite3.connect(scene.db)
    conn.execute("DROP TRIGGER audit_entries_no_update")
    conn.execute("UPDATE audit_entries SET device_id = '00DB120000000099' WHERE seq = 3")
    conn.commit()
    conn.close()


CASES: list[tuple[str, Callable[[Scene], None]]] = [
    ("1 edit an entry's content", edit_entry),
    ("2 delete a middle entry", delete_middle),
    ("3 delete the last entry (head not updated)", delete_last),
    ("4 truncate the tail and restore an old head row", truncate_with_head),
    ("5 edit an entry, recompute every tag after it", edit_and_recompute),
    ("6 delete, renumber and recompute", delete_renumber_recompute),
    ("7 edit the head row", edit_head),
    ("8 replace the whole log with a consistent rewrite", replace_whole_log),
    ("9 DROP TRIGGER then update a row", drop_trigger_and_update),
]
"""The nine cases, in order: a name and the function that applies it to a scene."""

__all__ = ["CASES", "ENTRIES", "Scene", "make_scene"]
