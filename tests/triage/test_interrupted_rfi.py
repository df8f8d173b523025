"""Ctrl-C part way through a device of a campaign (the emulated fast bench, a generated batch
with known truth): the device is stored INTERRUPTED, not as a verdict; the resumed campaign
triages it again, and the RFI figures equal the population's ground truth, every device
counted once (issue 12 §2: it used to be stored INCONCLUSIVE and skipped on resume)."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

from harness.config.loader import default_bench_path
from harness.emulator.world.faults import FaultCategory
from harness.emulator.world.population import PopulationSpec, generate
from harness.results.rfi import rfi_figures
from harness.results.store import INTERRUPTED, ResultStore
from harness.triage.intake import BatchRow, write_csv

TESTS = Path(__file__).resolve().parent.parent
FAST_BENCH = default_bench_path().parent / "emulated-fast.toml"


def truth_of(row: BatchRow) -> tuple[str, str, str | None, bool]:
    """(device type, verdict, category, reset) as the ground truth says triage must find."""
    fault = row.truth_verdict.value == "FAULT"
    category = None if row.truth_category is FaultCategory.NONE else row.truth_category.value
    return row.device_type.name, row.truth_verdict.value, category, not fault


def _at(stages: Path, stage: str, device: str) -> bool:
    """Whether the run has started a test of ``stage`` on ``device``."""
    return stages.exists() and any(stage in line and f"[{device}]" in line
                                   for line in stages.read_text().splitlines())


class _Row:
    """A device as the RFI figures read it."""

    def __init__(self, device_type: str, verdict: str, category: str | None,
                 reset: bool) -> None:
        self.device_type, self.verdict, self.category, self.reset = (device_type, verdict,
                                                                      category, reset)
        self.generation = "SMETS2"  # a generated batch's devices are all SMETS2


def test_ctrl_c_mid_device_leaves_the_rfi_true_after_resume(tmp_path: Path) -> None:
    rows = generate(PopulationSpec(3, seed=7, post_installation_ratio=1.0))
    batch = tmp_path / "batch.csv"
    write_csv(rows, batch)
    second = f"item{rows[1].item}"
    db = f"sqlite:///{tmp_path / 'results.db'}"
    stages = tmp_path / "stages"
    env = {**os.environ, "MB_STAGE_FILE": str(stages), "PYTHONPATH": str(TESTS),
           "MB_LOCK_DIR": str(tmp_path / "locks")}
    cmd = [sys.executable, "-m", "harness", "triage", "--bench", str(FAST_BENCH), "--batch",
           str(batch), "--db", db, "--", "-p", "_stage_marker"]
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not _at(stages, "test_30_diagnostics", second):  # powered, mid-triage
        assert proc.poll() is None, proc.communicate()[1][-2000:]
        assert time.monotonic() < deadline, "the campaign never reached its second device"
        time.sleep(0.005)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr[-2000:]
    with ResultStore.open(db, create=False) as store:
        first = {r.item_key: r.verdict for r in store.results(with_measurements=False,
                                                              with_traces=False)}
    assert first.get(second) == INTERRUPTED, first
    resume = shlex.split(" ".join(stderr.split()).split("Resume with: ", 1)[1])
    again = subprocess.run([sys.executable, "-m", "harness", *resume[1:]], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=180)
    assert again.returncode in (0, 1), again.stderr[-2000:]
    with ResultStore.open(db, create=False) as store:
        stored = store.results(with_measurements=False, with_traces=False)
    assert sorted(r.item_key for r in stored) == sorted(f"item{r.item}" for r in rows)
    assert INTERRUPTED not in {r.verdict for r in stored}
    expected = rfi_figures(_Row(*truth_of(r)) for r in rows).as_dict()
    assert rfi_figures(stored).as_dict() == expected
