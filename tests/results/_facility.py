"""Helpers for the facility tests: "hosts" are `meterbench triage --campaign` processes, each
with an emulated fast bench of its own name and its own lock folder, on one PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine, text

from harness.triage.audit_db import to_url

ROOT = Path(__file__).resolve().parents[2]
FAST = ROOT / "benches" / "emulated-fast.toml"
MB = [sys.executable, "-c", "from harness.cli import main; main()"]


def bench_file(folder: Path, name: str) -> Path:
    """The emulated fast bench under another name (a bench of its own for one host)."""
    text_ = FAST.read_text().replace('name = "emulated-fast"', f'name = "{name}"', 1)
    assert f'name = "{name}"' in text_
    path = folder / f"{name}.toml"
    path.write_text(text_)
    return path


def batch_file(folder: Path, size: int, seed: int = 5) -> Path:
    """A generated batch manifest of ``size`` devices."""
    path = folder / f"batch-{size}.csv"
    subprocess.run([*MB, "batch", "new", "--size", str(size), "--seed", str(seed),
                    "--out", str(path)], check=True, capture_output=True, timeout=60)
    return path


def start_host(folder: Path, name: str, url: str, batch: Path, campaign: str,
               lease: float = 30.0, *extra: str) -> subprocess.Popen[str]:
    """A host process joining ``campaign``; its own bench and lock folder; own process group
    (so a test can kill it whole, as a host that dies)."""
    env = {**os.environ, "MB_LOCK_DIR": str(folder / f"locks-{name}")}
    return subprocess.Popen(
        [*MB, "triage", "--bench", str(bench_file(folder, name)), "--batch", str(batch),
         "--db", url, "--campaign", campaign, "--lease", str(lease), "--no-prompts",
         "--plain", *extra],
        cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True)


def kill_host(proc: subprocess.Popen[str]) -> None:
    """Kill a host with no chance to clean up (kill -9 of its process group)."""
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)


def query(url: str, sql: str) -> list[tuple]:
    """Rows of one SELECT."""
    engine = create_engine(to_url(url))
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql))]
    finally:
        engine.dispose()


def rows_while_alive(url: str, sql: str, proc: subprocess.Popen[str], *,
                     every: float = 0.05, timeout: float = 60.0) -> list[tuple]:
    """Poll ``sql`` until it gives rows, ``proc`` ends or ``timeout`` passes (then ``[]``);
    a query failing because the host has not made the tables yet is polled again."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(every)
        try:
            rows = query(url, sql)
        except Exception:  # the tables are not made yet
            continue
        if rows:
            return rows
    return []
