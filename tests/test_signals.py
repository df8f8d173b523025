"""Safe state under signals for plain pytest runs on a lab bench whose supply outlives them,
judged by the supply's own log: SIGHUP to a run with a slot powered, and an xdist worker
killed with SIGKILL while powered (its controller makes the bench safe)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from _lab import Lab, audit_log, run_env, start_lab

from harness.bench.lock import BenchLock
from harness.emulator.power.scpi import outputs_from_log

HOLDS_POWER = """
import time

def test_powered(power):
    power.set_voltage(230.0, 1)
    power.output(True, 1)
    time.sleep(60)
"""

DIES_POWERED = """
import os, signal

def test_worker_dies_powered(power):
    power.set_voltage(230.0, 1)
    power.output(True, 1)
    os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.fixture
def lab(tmp_path: Path):
    """An external emulated bench logging what its supply receives."""
    started = start_lab(tmp_path / "lab")
    try:
        yield started
    finally:
        started.stop()


def _pytest(lab: Lab, folder: Path, suite: str, *extra: str) -> subprocess.Popen[str]:
    path = folder / "test_inner.py"
    path.write_text(suite)
    return subprocess.Popen(
        [sys.executable, "-m", "pytest", str(path), "--mb-bench", str(lab.bench), "-p",
         "no:cacheprovider", "-q", "--rootdir", str(folder), "--mb-audit-db", audit_log(folder),
         "--mb-no-prompts", *extra],
        cwd=folder, env=run_env(folder), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True)


def test_sighup_to_a_powered_pytest_run_switches_the_supply_off(lab: Lab,
                                                                 tmp_path: Path) -> None:
    proc = _pytest(lab, tmp_path, HOLDS_POWER)
    on = lab.wait_for("OUTP ON", alive=proc)
    sent = time.time()
    proc.send_signal(signal.SIGHUP)
    output, _ = proc.communicate(timeout=60)
    entries = lab.commands()
    assert outputs_from_log(entries[:on + 1], "psu", 3)[1]  # powered when the signal came
    assert any(e.command == "OUTP OFF" and e.channel == 1 and e.t >= sent for e in entries)
    assert lab.outputs() == {1: False, 2: False, 3: False}, output[-2000:]
    assert proc.returncode == 2, output[-2000:]  # pytest's own "interrupted"
    BenchLock("lab-sig", directory=tmp_path / "locks").acquire().release()


def test_a_killed_xdist_worker_s_bench_is_made_safe_by_the_controller(lab: Lab,
                                                                      tmp_path: Path) -> None:
    pytest.importorskip("xdist")
    proc = _pytest(lab, tmp_path, DIES_POWERED, "-n", "1", "--max-worker-restart", "0")
    on = lab.wait_for("OUTP ON", alive=proc)
    output, _ = proc.communicate(timeout=60)
    entries = lab.commands()
    off = [e for e in entries[on:] if e.command == "OUTP OFF" and e.channel == 1]
    assert off, output[-2000:]  # told by the controller: the worker was dead by then
    assert lab.outputs() == {1: False, 2: False, 3: False}
    assert "made safe after worker gw0 went down" in output, output[-2000:]
    BenchLock("lab-sig", directory=tmp_path / "locks").acquire().release()


HANDLERS = """
import signal

def test_no_bench_no_handler():
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    assert signal.getsignal(signal.SIGHUP) is signal.SIG_DFL

def test_bench_open_handler(bench):
    assert signal.getsignal(signal.SIGTERM) not in (signal.SIG_DFL, signal.SIG_IGN)
    assert signal.getsignal(signal.SIGHUP) not in (signal.SIG_DFL, signal.SIG_IGN)
"""


def test_the_plugin_handles_sigterm_only_once_a_bench_is_open(
        pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_handlers=HANDLERS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider",
                                           "test_handlers.py::test_no_bench_no_handler",
                                           "test_handlers.py::test_bench_open_handler")
    result.assert_outcomes(passed=2)
