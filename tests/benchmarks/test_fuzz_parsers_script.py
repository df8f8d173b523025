"""benchmarks/fuzz_parsers.py runs and reports its counts (a short run of a few targets)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "fuzz_parsers.py"


def test_a_short_run_prints_counts_as_json() -> None:
    done = subprocess.run([sys.executable, str(SCRIPT), "--json", "--only", "telegesis",
                           "--parser-inputs", "200", "--driver-inputs", "3"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    names = [t["target"] for t in report["targets"]]
    assert {"telegesis.AtLineReader", "drivers.zigbee.telegesis"} <= set(names)
    assert report["totals"]["undocumented"] == 0 and report["totals"]["hangs"] == 0
    reader = next(t for t in report["targets"] if t["target"] == "telegesis.AtLineReader")
    assert reader["inputs"] == 200 and reader["peak_kib"] > 0
