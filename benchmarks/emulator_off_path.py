"""How far the emulator is off the production path: counts for issue 13's "Done when".

Prints how many production modules (harness/ less the emulator and __main__, test_suites/)
fail to import with ``harness.emulator`` blocked, and how many emulator modules importing
the session, the CLI, the plugin and the suites, and loading and checking a physical bench,
pull in (each in a fresh interpreter).

Run: ``python benchmarks/emulator_off_path.py`` (0 and 0s expected; exit status 1 otherwise).
"""

from __future__ import annotations

import json
import sys
import tempfile
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from test_emulator_off_path import (  # noqa: E402
    IMPORT_ALL,
    LAB_BENCH,
    PHYSICAL,
    production_modules,
    run,
)

COUNT = textwrap.dedent("""
    import importlib, sys
    for name in sys.argv[1:]:
        importlib.import_module(name)
    print(len([m for m in sys.modules if m.startswith("harness.emulator")]))
""")

ENTRY_POINTS = ("harness.bench.session", "harness.bench.check", "harness.cli",
                "harness.plugin", "harness.plugin.session", "harness.plugin.triage",
                "test_suites.steps", "harness.emulator.bench")


def main() -> int:
    """Print the counts; 1 when anything in production needs the emulator."""
    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(scratch)
        modules = production_modules()
        proc = run(IMPORT_ALL, json.dumps(modules), tmp_path=tmp)
        failed = json.loads(proc.stdout.strip().splitlines()[-1])
        print(f"production modules: {len(modules)}; failing with harness.emulator blocked: "
              f"{len(failed)}")
        for name in sorted(failed):
            print(f"  {name}: {failed[name]}")
        loaded = {}
        for name in ENTRY_POINTS:
            out = run(COUNT, name, tmp_path=tmp)
            if out.returncode != 0:  # the module itself did not import: say why, and fail
                loaded[name] = -1
                print(f"import {name}: FAILED: {(out.stderr or out.stdout).strip()[-300:]}")
                continue
            loaded[name] = int(out.stdout.strip())
            print(f"import {name}: {loaded[name]} harness.emulator modules loaded")
        bench = tmp / "lab.toml"
        bench.write_text(LAB_BENCH)
        physical = run(PHYSICAL, str(bench), tmp_path=tmp)
        print(f"physical bench: load, session, check_bench, lease: "
              f"{'no emulator module' if physical.returncode == 0 else physical.stdout}")
    production = [n for n in ENTRY_POINTS if not n.startswith("harness.emulator")]
    bad = failed or any(loaded[n] for n in production) or physical.returncode != 0
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
