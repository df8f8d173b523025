"""benchmarks/clock_window.py: no window beats the floor it is measured against, every fit
holds the true rate, and a change is pinned before the window ends."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "clock_window.py"


def test_a_short_run_reports_spans_at_or_above_the_floor() -> None:
    done = subprocess.run([sys.executable, str(SCRIPT), "--clocks", "8", "--gap", "5"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    floor = float(re.search(r"floor \(reaction / 1000 ppm\) ([\d.]+) s", done.stdout)[1])
    rows = re.findall(r"span\s+([\d.]+) s = .* at\s+([\d.]+) s; true rate within the fit "
                      r"(\d+)/(\d+)", done.stdout)
    assert len(rows) == 2, done.stdout  # without and with other reads inside the window
    for span, pinned, inside, clocks in rows:
        assert floor == 20.0 and float(span) >= floor
        assert float(pinned) <= float(span) and inside == clocks == "8"
