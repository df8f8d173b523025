"""The campaign display counts a device cut short by an interrupt as interrupted, not done:
the bar and the closing title say how many were triaged and how many are left to redo."""

from __future__ import annotations

import io

from rich.console import Console

from harness.cli.progress import CampaignProgress


def _line(item: str, verdict: str) -> dict[str, object]:
    return {"item": item, "device_type": "ESME", "device_id": None, "verdict": verdict,
            "category": None, "reset": verdict == "NO_FAULT_FOUND", "why": ""}


def test_an_interrupted_device_is_not_counted_as_done() -> None:
    out = io.StringIO()
    progress = CampaignProgress(Console(file=out, width=120))
    progress.total = 3
    progress.lines = [_line("a", "NO_FAULT_FOUND"), _line("b", "INTERRUPTED")]
    progress.interrupted = True
    assert (progress.done, progress.cut_short) == (1, 1)
    Console(file=out, width=120).print(progress.render(), progress.summary())
    text = out.getvalue()
    assert "1/3 devices" in text
    assert "triage INTERRUPTED: 1 devices, 1 interrupted" in text
