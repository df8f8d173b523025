"""Instrument transcripts: bounded in length, and a mark taken late still renders what came
after it (a long campaign's last devices keep their transcripts)."""

from __future__ import annotations

from harness.drivers.base import Transcript


def test_marks_survive_trimming() -> None:
    t = Transcript("psu", limit=5, merge_s=0.0)
    for i in range(12):
        t.record(">" if i % 2 else "<", f"M{i}".encode())
    mark = t.mark()
    assert mark == 12 and len(t.entries) == 5
    t.record(">", b"LATE")
    text = t.render(since=mark)
    assert "LATE" in text and "M11" not in text
    assert t.render(since=0).count("\n") == 4  # only what is kept: the last five entries
