"""TRI-DIAG-05 switches a load switch (valve) through its states in one optical session, and
TRI-RST-02 reads the registers and clears in one: each sign-on costs the device about a second
at 300 Bd (benchmarks/stage_floor.py), and nothing in either step needs a fresh one."""

from __future__ import annotations

import json
from pathlib import Path

from harness.domain.vocabulary import FaultCategory
from tests.triage._suite_run import batch, run_suites


def test_the_supply_switching_and_the_clear_hold_one_session(tmp_path: Path) -> None:
    manifest = batch(tmp_path / "b.csv", ("EMU-ESME-1", (), FaultCategory.NONE),
                     ("EMU-GSME-1", (), FaultCategory.NONE))
    counts = tmp_path / "sign-ons.jsonl"
    lines, proc = run_suites(tmp_path, manifest, "test_suites/test_20_identity.py",
                             "test_suites/test_30_diagnostics.py",
                             "test_suites/test_60_reset.py", "-k",
                             "not (reset_certificates or han_rejoins or lifecycle)",
                             "-p", "_sign_ons",
                             env={"MB_SIGN_ONS": str(counts)})
    assert set(lines) == {"item1", "item2"}, proc.stdout[-3000:] + proc.stderr[-2000:]
    for line in lines.values():  # switched, the actuator pulse seen: no finding
        states = [m for m in line["measurements"] if m["name"].startswith("supply_state_")]
        pulses = [m for m in line["measurements"] if m["name"].startswith("actuator_current_")]
        assert states and pulses and all(m["passed"] for m in states + pulses), line
    tests = [json.loads(x) for x in counts.read_text().splitlines()]
    switching = [t for t in tests if t["test"].startswith("test_supply_switch_operates")]
    clearing = [t for t in tests if t["test"].startswith("test_clear_consumer_data")]
    assert len(switching) == len(clearing) == 2, tests
    # The diagnostics read (once per device, it may come first here) and the switching.
    assert all(t["sign_ons"] <= 2 for t in switching), switching
    assert all(t["sign_ons"] == 1 for t in clearing), clearing
    for line in lines.values():
        assert "TRI-RST-02" in line.get("reset_steps", ["TRI-RST-02"]), line
