"""The emulator is off the production path: everything a physical lab runs imports without it.

Each check runs in a fresh interpreter (a subprocess) so what this test process already
imported cannot hide an import: with ``harness.emulator`` blocked by a ``sys.meta_path``
finder, every production module (all of ``harness/`` except ``harness.emulator.*`` and
``harness.__main__``, and all of ``test_suites/``) must import; and loading, leasing and
checking a physical bench, and reading a returns manifest without injected faults, must not
load the emulator at all.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

BLOCK = textwrap.dedent("""
    import importlib.abc, sys

    class BlockEmulator(importlib.abc.MetaPathFinder):
        '''Refuses harness.emulator and its submodules, as a lab install without it would.'''

        def find_spec(self, name, path=None, target=None):
            if name == "harness.emulator" or name.startswith("harness.emulator."):
                raise ImportError(f"harness.emulator is blocked ({name})", name=name)
            return None

    sys.meta_path.insert(0, BlockEmulator())
""")

IMPORT_ALL = BLOCK + textwrap.dedent("""
    import importlib, json, traceback
    failed = {}
    for name in json.loads(sys.argv[1]):
        try:
            importlib.import_module(name)
        except BaseException as exc:  # a module may fail in any way; report them all
            failed[name] = f"{type(exc).__name__}: {exc}"
    print(json.dumps(failed))
""")

LAB_BENCH = """
[bench]
name = "offpath-lab"

[instruments.psu]
kind = "power"
backend = "scpi"
address = "TCPIP::127.0.0.1::1::SOCKET"
timeout_s = 0.5
options = { channels = 2 }

[slots.a]
device_type = "ESME"
instruments = { power = "psu:2" }
"""


def production_modules() -> list[str]:
    """Dotted names of every production module: harness/ (not the emulator, not
    ``__main__``) and test_suites/."""
    names = []
    for package in ("harness", "test_suites"):
        for path in sorted((REPO / package).rglob("*.py")):
            parts = list(path.relative_to(REPO).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            name = ".".join(parts)
            if name == "harness.__main__" or name == "harness.emulator" \
                    or name.startswith("harness.emulator."):
                continue
            if name.startswith("harness.results.migrations."):  # Alembic's scripts: run by
                continue  # Alembic (harness.results.migrate), never imported as modules
            names.append(name)
    return names


def run(script: str, *args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """``script`` in a fresh interpreter at the repository root (test_suites importable)."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "MB_LOCK_DIR": str(tmp_path / "locks")}
    return subprocess.run([sys.executable, "-c", script, *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)


def test_every_production_module_imports_with_the_emulator_blocked(tmp_path: Path) -> None:
    modules = production_modules()
    assert "harness.bench.session" in modules and "test_suites.steps" in modules
    assert not any(m.startswith("harness.emulator") for m in modules)
    proc = run(IMPORT_ALL, json.dumps(modules), tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stderr
    failed = json.loads(proc.stdout.strip().splitlines()[-1])
    listing = "\n".join(f"  {name}: {error}" for name, error in sorted(failed.items()))
    assert not failed, f"{len(failed)} production module(s) need the emulator:\n{listing}"


def test_the_blocker_does_block(tmp_path: Path) -> None:
    """The check above cannot pass vacuously: the emulator itself fails to import under it."""
    proc = run(IMPORT_ALL, json.dumps(["harness.emulator.bench"]), tmp_path=tmp_path)
    failed = json.loads(proc.stdout.strip().splitlines()[-1])
    assert "harness.emulator is blocked" in failed["harness.emulator.bench"]


PHYSICAL = textwrap.dedent("""
    import sys
    from harness.bench.check import check_bench
    from harness.bench.session import BenchSession
    from harness.config.loader import load_bench

    path = sys.argv[1]
    load_bench(path)
    session = BenchSession.from_file(path)
    assert not session.config.emulated and not session.private
    assert session.start_emulator() is None
    results = check_bench(session)  # the supply is not there: an error result, no traceback
    assert [r.name for r in results] == ["psu"] and not results[0].ok, results
    lease = BenchSession.lease([path], purpose="off-path test")
    lease.close()
    loaded = sorted(m for m in sys.modules if m.startswith("harness.emulator"))
    print("EMULATOR MODULES:", loaded)
    assert not loaded, loaded
""")


def test_a_physical_bench_loads_and_checks_without_the_emulator(tmp_path: Path) -> None:
    bench = tmp_path / "lab.toml"
    bench.write_text(LAB_BENCH)
    proc = run(PHYSICAL, str(bench), tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "EMULATOR MODULES: []" in proc.stdout


READ_MANIFEST = textwrap.dedent("""
    import sys
    from harness.triage.intake import read_csv

    rows = read_csv(sys.argv[1])
    assert [r.item for r in rows] == [1, 2], rows
    loaded = sorted(m for m in sys.modules if m.startswith("harness.emulator"))
    print("EMULATOR MODULES:", loaded)
    assert not loaded, loaded
""")


def test_a_lab_reads_its_returns_manifest_without_the_emulator(tmp_path: Path) -> None:
    manifest = tmp_path / "returns.csv"
    manifest.write_text(
        "item,device_type,model,label_id,device_id,return_reason,return_type,seed,"
        "truth_faults,truth_verdict,truth_category\n"
        "1,ESME,EMU-ESME-1,EL00000001,00-11-22-33-44-55-66-77,meter exchange,"
        "post installation,0,no_fault,NO_FAULT_FOUND,none\n"
        "2,CHF,EMU-CH-1,CH00000002,0011223344556678,general,prior to installation,0,,"
        "NO_FAULT_FOUND,none\n")
    proc = run(READ_MANIFEST, str(manifest), tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "EMULATOR MODULES: []" in proc.stdout
