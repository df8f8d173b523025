"""The bench lock: one owner at a time, who holds it is told, a dead holder frees it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.bench.lock import BenchLock
from harness.errors import BenchLockedError, BenchUnavailableError

HOLDER = """
import sys, time
from pathlib import Path
from harness.bench.lock import BenchLock
BenchLock("lab-7", Path(sys.argv[1])).acquire("campaign 42")
print("held", flush=True)
time.sleep(60)
"""


def test_second_owner_fails_at_once_naming_the_holder(tmp_path: Path) -> None:
    first = BenchLock("lab-7", tmp_path).acquire("suite run")
    start = time.monotonic()
    with pytest.raises(BenchLockedError) as info:
        BenchLock("lab-7", tmp_path).acquire()
    assert time.monotonic() - start < 0.5
    message = str(info.value)
    assert f"pid {os.getpid()}" in message and "suite run" in message and " since 20" in message
    assert isinstance(info.value, BenchUnavailableError)
    first.release()
    BenchLock("lab-7", tmp_path).acquire().release()


def test_a_garbled_start_time_in_the_lock_file_still_names_the_holder(tmp_path: Path) -> None:
    """A hand-edited ``since`` is shown as unknown, not a TypeError (found by mypy)."""
    first = BenchLock("lab-7", tmp_path).acquire("suite run")
    first.holder_path.write_text('{"pid": 4242, "host": "rig", "since": "yesterday"}')
    with pytest.raises(BenchLockedError, match=r"pid 4242 on rig since \?"):
        BenchLock("lab-7", tmp_path).acquire()
    first.release()


def test_other_benches_are_not_blocked(tmp_path: Path) -> None:
    with BenchLock("lab-7", tmp_path), BenchLock("lab-8", tmp_path) as other:
        assert other.held


def test_lock_held_by_another_process_and_freed_when_it_is_killed(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path)],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        with pytest.raises(BenchLockedError, match=f"pid {proc.pid} .*campaign 42"):
            BenchLock("lab-7", tmp_path).acquire()
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert BenchLock("lab-7", tmp_path).holder() is not None  # the dead run's record is left
    again = BenchLock("lab-7", tmp_path).acquire("resumed")  # no stale lock after kill -9
    assert again.holder() == {**(again.holder() or {}), "pid": os.getpid(), "purpose": "resumed"}
    again.release()
    assert again.holder() is None  # a released lock names nobody
