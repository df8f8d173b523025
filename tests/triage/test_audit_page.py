"""The audit log's paged read (``AuditLog.entries_page``): newest first, bounded, one
operator's when asked, as the console's audit trail reads it."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.triage.audit import AuditLog, Outcome


def test_entries_come_a_page_at_a_time_newest_first(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    with AuditLog.open(url, create=True) as log:
        for i in range(7):
            log.append(operator="ann" if i % 2 else "bob", role="supplier", bench="bench-1",
                       device_id=f"00DB1200000000{i:02d}", clause="TRI-RST-01",
                       action="reset", outcome=Outcome.DONE, detail={"i": i})
        total, entries = log.entries_page(0, 3)
        assert (total, [e.seq for e in entries]) == (7, [7, 6, 5])
        assert [e.seq for e in log.entries_page(6, 3)[1]] == [1]
        assert log.entries_page(9, 3) == (7, [])
        total, anns = log.entries_page(0, 10, operator="ann")
        assert (total, [e.detail["i"] for e in anns]) == (3, [5, 3, 1])
        assert anns[0] == next(e for e in log.entries() if e.seq == anns[0].seq)
        with pytest.raises(ValueError, match="limit 1001"):
            log.entries_page(0, 1001)
        with pytest.raises(ValueError, match="offset -1"):
            log.entries_page(-1, 5)
