"""The campaign display is live on a real terminal with one bench (the default), where the
tests run in the display's own process and pytest captures descriptor 2 during each test: run
under a pseudo-terminal, the stage of the device on the bench is seen to change while the
campaign runs, not only when it ends. And a prompt-free emulated run never pauses it."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

from harness.config.loader import default_bench_path

FAST = default_bench_path().parent / "emulated-fast.toml"
NOW = re.compile(rb"now: (item\d) \((\w+)\)")


def test_the_display_moves_while_one_bench_triages(tmp_path: Path) -> None:
    controller, terminal = pty.openpty()
    env = {**os.environ, "MB_LOCK_DIR": str(tmp_path / "locks"), "COLUMNS": "120",
           "TERM": "xterm-256color"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness", "triage", "--devices", "2", "--bench", str(FAST),
         "--no-prompts", "--db", f"sqlite:///{tmp_path / 'r.db'}"],
        stdin=terminal, stdout=terminal, stderr=terminal, cwd=tmp_path, env=env)
    os.close(terminal)
    seen: list[tuple[bytes, bytes]] = []  # (device, stage) as each frame showed it, in order
    output = b""
    deadline = time.monotonic() + 300
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            if select.select([controller], [], [], 0.2)[0]:
                try:
                    chunk = os.read(controller, 65536)
                except OSError:  # the terminal closed: the process is ending
                    break
                output += chunk
                seen += [m.groups() for m in NOW.finditer(chunk)]
        frames_before_exit = list(dict.fromkeys(seen))
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(controller)
    assert proc.returncode in (0, 1), output[-3000:].decode(errors="replace")
    # Several stages of the first device were drawn while it was on the bench.
    stages = [stage for device, stage in frames_before_exit if device == b"item1"]
    assert len(set(stages)) >= 3, (frames_before_exit, output[-2000:])
    assert b"triage: 2 devices" in output  # and the closing table on the same terminal


def test_a_prompt_pauses_the_display_and_a_new_frame_follows_its_answer() -> None:
    import io

    from rich.console import Console

    from harness.cli.progress import CampaignProgress

    out = io.StringIO()
    progress = CampaignProgress(Console(file=out, width=100, force_terminal=True))
    progress._start_live()
    assert progress._live is not None
    progress.pytest_meterbench_terminal(config=None, taken=True)  # type: ignore[arg-type]
    assert progress._live is None  # nothing draws over the question
    drawn = out.getvalue()
    time.sleep(0.6)  # longer than two refreshes
    assert out.getvalue() == drawn
    progress.pytest_meterbench_terminal(config=None, taken=False)  # type: ignore[arg-type]
    assert progress._live is not None
    progress.stop()
    progress.pytest_meterbench_terminal(config=None, taken=False)  # type: ignore[arg-type]
    assert progress._live is None  # once stopped, a late prompt does not restart it
