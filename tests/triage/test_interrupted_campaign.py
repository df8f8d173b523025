"""A campaign stopped by SIGTERM in the middle of a device's destructive reset, on a lab bench
whose supply outlives it: the supply's own log shows every output switched off, the lock is
free, the run exits 130 saying how to resume, the device is stored INTERRUPTED (no verdict),
and the printed command resumes the campaign, triaging that device again, once.

One cell of ``benchmarks/signal_matrix.py`` (which runs them all).
"""

from __future__ import annotations

import shlex
import signal
import subprocess
import time
from pathlib import Path

from _lab import audit_log, meterbench, run_env, start_lab

from harness.bench.lock import BenchLock
from harness.emulator.power.scpi import outputs_from_log
from harness.results.store import INTERRUPTED, ResultStore

TESTS = Path(__file__).resolve().parent.parent


def test_sigterm_during_the_reset_leaves_the_bench_safe_and_the_device_to_redo(
        tmp_path: Path) -> None:
    lab = start_lab(tmp_path)
    try:
        audit = audit_log(tmp_path)
        db = f"sqlite:///{tmp_path / 'results.db'}"
        stages = tmp_path / "stages"
        env = {**run_env(tmp_path), "MB_STAGE_FILE": str(stages), "PYTHONPATH": str(TESTS)}
        cmd = meterbench("triage", "--bench", str(lab.bench), "--no-prompts", "--db", db,
                         "--audit-db", audit, "--role", "supplier", "--",
                         "-k", "esme", "-p", "_stage_marker")
        proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 120
        while not (stages.exists() and "test_60_reset" in stages.read_text()):
            assert proc.poll() is None, proc.communicate()[1][-2000:]
            assert time.monotonic() < deadline, "the campaign never reached its reset stage"
            time.sleep(0.005)
        sent = time.time()
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=120)

        assert outputs_from_log([e for e in lab.commands() if e.t <= sent], "psu", 3)[1]
        assert lab.outputs() == {1: False, 2: False, 3: False}  # as the supply was told
        assert any(e.command == "OUTP OFF" and e.t > sent for e in lab.commands())
        BenchLock("lab-sig", directory=tmp_path / "locks").acquire().release()  # lock free
        assert proc.returncode == 130, stderr[-2000:]
        assert "campaign interrupted" in stderr
        assert "triage INTERRUPTED" in stdout  # the summary table says so too
        with ResultStore.open(db, create=False) as store:
            (row,) = store.results(with_measurements=False, with_traces=False)
            campaign = row.campaign_id
            assert (row.item_key, row.verdict) == ("esme", INTERRUPTED)
            assert "test_reset" in row.why
            assert store.done_items(campaign) == set()

        resume = shlex.split(" ".join(stderr.split()).split("Resume with: ", 1)[1])
        assert resume[:2] == ["meterbench", "triage"] and db in resume
        again = subprocess.run(meterbench(*resume[1:]), cwd=tmp_path, env=env,
                               capture_output=True, text=True, timeout=180)
        assert again.returncode in (0, 1), again.stderr[-2000:]
        with ResultStore.open(db, create=False) as store:
            rows = store.results(with_measurements=False, with_traces=False)
            assert [(r.item_key, r.campaign_id) for r in rows] == [("esme", campaign)]
            assert rows[0].verdict != INTERRUPTED and rows[0].started > row.started
    finally:
        lab.stop()
