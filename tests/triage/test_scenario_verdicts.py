"""Acceptance: every device of the shipped scenarios gets the verdict its truth states.

Healthy devices with ordinary histories (storage, removal, brown-outs, a supplier change) must
end NO_FAULT_FOUND, their faulty counterparts FAULT in the true category, triaged through the
real drivers by ``meterbench triage --batch --json`` on the fast emulated bench; so must the
rules' scenarios (a fault hiding others, metrology kept through the reset), both ways.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import pytest

from harness.config.loader import default_bench_path
from harness.emulator.world.scenario import load_scenario
from harness.triage.intake import Verdict, write_csv

BENCHES = default_bench_path().parent
SCENARIOS = sorted((BENCHES / "scenarios").glob("*.yaml"))


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, str, str]]:
    """(device, wanted, got) for every device of every shipped scenario, in one campaign."""
    folder = tmp_path_factory.mktemp("scenario")
    rows = []
    for path in SCENARIOS:
        rows += [dataclasses.replace(r, item=len(rows) + i)
                 for i, r in enumerate(load_scenario(path), start=1)]
    write_csv(rows, folder / "s.csv")
    proc = subprocess.run(
        [sys.executable, "-m", "harness", "triage", "--batch", str(folder / "s.csv"), "--json",
         "--bench", str(BENCHES / "emulated-fast.toml"), "--workers", "2", "--operator", "ci"],
        capture_output=True, text=True, timeout=600, cwd=folder,
    )
    got = {v["item"]: v for v in (json.loads(line) for line in proc.stdout.splitlines()
                                  if line.startswith("{"))}
    assert len(got) == len(rows), proc.stdout[-2000:] + proc.stderr[-2000:]
    result = []
    for row in rows:
        v = got[f"item{row.item}"]
        want = "NO_FAULT_FOUND" if row.truth_verdict is Verdict.NO_FAULT_FOUND \
            else f"FAULT {row.truth_category.value}"
        have = v["verdict"] if v["verdict"] != "FAULT" else f"FAULT {v['category']}"
        result.append((f"item{row.item} {row.device_type.name} {row.truth_faults}", want,
                       f"{have}: {v['why']}"))
    return result


def test_the_faulty_counterparts_are_found(outcome: list[tuple[str, str, str]]) -> None:
    # The clock fault aside: today its removal's cover alert outranks it (tamper).
    found = [o for o in outcome if o[1].startswith("FAULT") and "clock_drift" not in o[0]]
    assert found and all(got.startswith(want + ":") for _, want, got in found), found


def test_the_shipped_scenarios_are_all_run() -> None:
    assert {p.name for p in SCENARIOS} >= {"field-histories.yaml", "triage-rules.yaml"}


def test_every_scenario_device_gets_its_true_verdict(
        outcome: list[tuple[str, str, str]]) -> None:
    wrong = [f"{device}: want {want}, got {got}" for device, want, got in outcome
             if not got.startswith(want + ":")]
    assert not wrong, "\n".join(wrong)
