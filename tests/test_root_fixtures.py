"""The checkout's root conftest loads ``fixtures/``: the verdict forwarder, as a lab's own
plugin would implement meterbench's hook, hears every device of a run from the checkout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_the_forwarder_writes_one_line_per_device(tmp_path: Path) -> None:
    target = tmp_path / "forwarded.jsonl"
    env = {**os.environ, "MB_FORWARD_JSONL": str(target)}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "test_suites/test_10_power.py", "-q",
         "-p", "no:cacheprovider", "--mb-time-scale", "10"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = [json.loads(line) for line in target.read_text().splitlines()]
    assert sorted(line["item"] for line in lines) == ["ch", "esme", "gsme"]
    assert all(line["verdict"] and line["device_type"] for line in lines)
