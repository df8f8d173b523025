"""meterbench on a machine without the POSIX-only modules (Windows): the command, the plugin
and the bench lock import and work with ``fcntl``, ``pwd``, ``os.getuid`` and ``SIGHUP`` gone
(issue 15 §5)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli._posixless import REPO, run_posixless

IMPORT_ALL = """
import importlib, pkgutil, harness
failed = []
for info in pkgutil.walk_packages(harness.__path__, "harness."):
    if info.name.endswith("__main__"):
        continue
    try:
        importlib.import_module(info.name)
    except Exception as exc:
        failed.append(f"{info.name}: {exc!r}")
print("\\n".join(failed) or "all imported")
"""


def test_every_module_imports_without_posix_only_modules() -> None:
    proc = run_posixless(IMPORT_ALL)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "all imported", proc.stdout


def test_the_command_and_the_plugin_answer_without_fcntl() -> None:
    code = """
from typer.testing import CliRunner
import harness.plugin
from harness.cli import app
result = CliRunner().invoke(app, ["triage", "--help"])
print(result.exit_code, "--bench" in result.output)
"""
    proc = run_posixless(code)
    assert proc.stdout.split() == ["0", "True"], proc.stderr[-2000:]


def test_the_bench_lock_excludes_a_second_owner_without_fcntl(tmp_path: Path) -> None:
    code = """
import sys
from pathlib import Path
from harness.bench.lock import BenchLock
from harness.errors import BenchLockedError
first = BenchLock("lab-9", Path(sys.argv[1])).acquire("windows run")
try:
    BenchLock("lab-9", Path(sys.argv[1])).acquire()
except BenchLockedError as exc:
    print("refused:", exc)
first.release()
BenchLock("lab-9", Path(sys.argv[1])).acquire().release()
print("free again")
"""
    proc = run_posixless(code, str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "refused: bench 'lab-9' is in use by pid" in proc.stdout
    assert "(windows run)" in proc.stdout and "free again" in proc.stdout


def test_an_emulated_campaign_runs_without_posix_only_modules(tmp_path: Path) -> None:
    """The whole path a Windows user takes first: triage on the emulated bench (one device,
    its power stage) — site, lock, safety signals and prompts included."""
    code = """
import sys
from harness.cli import main
sys.argv = ["meterbench", *sys.argv[1:]]
main()
"""
    proc = run_posixless(code, "triage", "--devices", "1", "--json", "--bench",
                         str(REPO / "benches" / "emulated-fast.toml"), "--", "-k", "power",
                         cwd=tmp_path)
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    verdicts = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert len(verdicts) == 1 and verdicts[0]["item"] == "item1", proc.stdout[-2000:]
