"""One slot triaged through the DCC (benches/emulated-remote.toml): what the route cannot
observe is "not assessed", never passed; what it can is assessed as on the optical route."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

REMOTE_BENCH = Path(__file__).resolve().parents[2] / "benches" / "emulated-remote.toml"
NOT_ASSESSED = ("TRI-OPT-01", "TRI-ID-01", "TRI-DIAG-01", "TRI-DIAG-04", "TRI-DIAG-05",
                "TRI-HAN-02", "TRI-VER-01", "TRI-VER-02", "TRI-VER-03")
PASSED = ("TRI-ID-02", "TRI-PWR-02", "TRI-DIAG-02", "TRI-DIAG-03", "TRI-RST-01", "TRI-RST-02",
          "TRI-RST-03", "TRI-RST-04")


def test_the_esme_slot_triaged_through_the_dcc(tmp_path: Path) -> None:
    conformance = tmp_path / "conformance.md"
    proc = subprocess.run([sys.executable, "-m", "harness", "triage", "--bench",
                           str(REMOTE_BENCH), "--slots", "--json", "--conformance",
                           str(conformance), "--", "-k", "esme"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    [verdict] = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert (verdict["item"], verdict["verdict"], verdict["reset"]) == ("esme", "INCONCLUSIVE",
                                                                        True)
    assert "TRI-VER-01 not done" in verdict["why"]  # a reset the route cannot read back
    measured = {m["name"] for m in verdict["measurements"]}
    assert {"device_id", "firmware_version", "standby_current"} <= measured
    assert not measured & {"serial", "clock_offset", "tamper_flags", "optical_link_errors"}
    esme = conformance.read_text().split("## EMU-ESME-1")[1].split("\n## ")[0]
    result = dict(re.findall(r"^\| (TRI-[A-Z]+-\d+) [^|]*\| ([a-z ]+) \|", esme, re.M))
    assert {c: result[c] for c in NOT_ASSESSED} == dict.fromkeys(NOT_ASSESSED, "not assessed")
    assert {c: result[c] for c in PASSED} == dict.fromkeys(PASSED, "passed")
