"""The audit log against an insider who can write the database but does not hold the key.

The nine cases (harness/triage/audit_tampering.py applies each with plain SQL to a fresh
20-entry log checkpointed at its end; benchmarks/audit_tampering.py counts them):

1. edit an entry's content                        -> edited (its tag no longer matches)
2. delete a middle entry                          -> deleted (a gap)
3. delete the last entry, head not updated        -> truncated (head count)
4. truncate the tail and put back an old head row -> truncated, by the checkpoint only
   (with a fresh, unMAC'd head instead, the head's MAC tells even without a checkpoint)
5. edit an entry, recompute every tag after it    -> edited from there on, head MAC
6. delete, renumber and recompute                 -> edited from the gap on, head MAC
7. edit the head row                              -> head (MAC, count)
8. replace the whole log with a consistent rewrite made with the key -> replaced, by the
   checkpoint only
9. DROP TRIGGER then update a row                 -> trigger and edited; DROP TRIGGER alone,
   a no-op trigger under the same name, and (PostgreSQL) a disabled trigger are reported too.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from harness.triage.audit import verify_log
from harness.triage.audit_checkpoint import verify_against_checkpoints
from harness.triage.audit_tampering import CASES, ENTRIES, Scene, make_scene

EXPECTED: dict[str, tuple[set[str], bool]] = {
    "1": ({"edited"}, True),
    "2": ({"deleted"}, True),
    "3": ({"truncated"}, True),
    "4": ({"truncated"}, False),
    "5": ({"edited", "head", "replaced"}, True),
    "6": ({"edited", "head", "truncated"}, True),
    "7": ({"head"}, True),
    "8": ({"replaced"}, False),
    "9": ({"trigger", "edited"}, True),
}
"""Per case: the problem kinds verify must report (with the checkpoint), and whether the
log alone (no checkpoint) already tells."""


@pytest.fixture
def scene(tmp_path: Path) -> Scene:
    made = make_scene(tmp_path / "log")
    assert verify_against_checkpoints(made.checkpoints, made.url, key=made.key).ok
    return made


@pytest.mark.parametrize(("name", "apply"), CASES, ids=[n.split()[0] for n, _ in CASES])
def test_each_tampering_is_detected(scene: Scene, name: str, apply: object) -> None:
    apply(scene)  # type: ignore[operator]
    kinds, alone = EXPECTED[name.split()[0]]
    report = verify_against_checkpoints(scene.checkpoints, scene.url, key=scene.key)
    assert report.tampered, name
    assert kinds <= {p.kind for p in report.problems}, report.problems
    assert verify_log(scene.url, key=scene.key).tampered is alone


def test_nine_cases() -> None:
    assert [n.split()[0] for n, _ in CASES] == [str(i) for i in range(1, 10)]
    assert set(EXPECTED) == {n.split()[0] for n, _ in CASES}


def test_truncation_with_a_recomputed_but_unkeyed_head_needs_no_checkpoint(
        scene: Scene) -> None:
    conn = sqlite3.connect(scene.db)
    conn.execute("DROP TRIGGER audit_entries_no_delete")
    conn.execute("DELETE FROM audit_entries WHERE seq > 15")
    conn.execute("UPDATE audit_head SET count = 15, last_hash = "
                 "(SELECT hash FROM audit_entries WHERE seq = 15)")
    conn.commit()
    conn.close()
    report = verify_log(scene.url, key=scene.key)
    assert [p.kind for p in report.problems] == ["head", "trigger"]
    assert "its MAC does not match" in report.problems[0].message


def test_recomputed_entry_is_named_where_the_edit_was(scene: Scene) -> None:
    dict(CASES)["5 edit an entry, recompute every tag after it"](scene)
    report = verify_log(scene.url, key=scene.key)
    edited = [p.seq for p in report.problems if p.kind == "edited"]
    assert edited == list(range(7, ENTRIES + 1))


@pytest.mark.parametrize("trigger", ["audit_entries_no_update", "audit_entries_no_delete"])
def test_drop_trigger_alone_is_reported(scene: Scene, trigger: str) -> None:
    conn = sqlite3.connect(scene.db)
    conn.execute(f"DROP TRIGGER {trigger}")
    conn.commit()
    conn.close()
    report = verify_log(scene.url, key=scene.key)
    assert [(p.kind, p.message) for p in report.problems] == [
        ("trigger", f"trigger {trigger} is missing (dropped)")]


def test_trigger_replaced_by_a_no_op_is_reported(scene: Scene) -> None:
    conn = sqlite3.connect(scene.db)
    conn.execute("DROP TRIGGER audit_entries_no_delete")
    conn.execute("CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries "
                 "BEGIN SELECT 1; END")
    conn.commit()
    conn.close()
    report = verify_log(scene.url, key=scene.key)
    assert [p.message for p in report.problems] == [
        "trigger audit_entries_no_delete was replaced by another definition"]


def test_edited_checkpoint_is_reported(scene: Scene) -> None:
    line = scene.checkpoints.read_text()
    scene.checkpoints.write_text(line.replace(f'"count": {ENTRIES}', f'"count": {ENTRIES - 2}'))
    report = verify_against_checkpoints(scene.checkpoints, scene.url, key=scene.key)
    assert [p.kind for p in report.problems] == ["checkpoint"]
    assert "its MAC does not match" in report.problems[0].message
