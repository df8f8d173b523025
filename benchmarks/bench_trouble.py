"""Bench trouble injected at every stage never yields FAULT (issue 14 §2).

A healthy batch (one ESME, one GSME, one Communications Hub, returned after installation) is
triaged on the fast emulated bench once per (stage file, trouble): an instrument timeout on
the optical line (more lost answers than the probe's retries), a garbled byte after the baud
switch, a supply query left unanswered; and each stage file is run alone, so the harness did
not power the device before it. Trouble is armed on the emulated instruments' side of the wire
(``harness.emulator.trouble``) by ``_trouble_plugin.py``. Prints the verdict counts per
trouble and overall; the figure that matters is FAULT, which must be 0.
Run: python benchmarks/bench_trouble.py [--stages test_20_identity,test_60_reset] [--kinds ...]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.emulator.world.population import catalogue_batch  # noqa: E402
from harness.triage.intake import write_csv  # noqa: E402

STAGES = sorted(p.stem for p in (ROOT / "test_suites").glob("test_*.py"))
KINDS = ("timeout", "garble", "supply", "unpowered")


def healthy_batch(path: Path) -> int:
    """One no-fault device of each type (the catalogue batch's own no-fault rows)."""
    rows = [r for r in catalogue_batch(seed=14) if r.truth_faults == ("no_fault",)]
    write_csv(rows, path)
    return len(rows)


def run(folder: Path, batch: Path, stage: str, kind: str) -> list[dict]:
    """One triage run with ``kind`` trouble at ``stage``; the verdict lines."""
    out = folder / f"{stage}-{kind}.jsonl"
    suites = ([f"test_suites/{stage}.py"] if kind == "unpowered" else ["test_suites"])
    env = {**os.environ, "MB_LOCK_DIR": str(folder / "locks"),
           "MB_TROUBLE": "" if kind == "unpowered" else f"{stage}:{kind}",
           "PYTHONPATH": os.pathsep.join([str(ROOT / "benchmarks"), str(ROOT)])}
    subprocess.run([sys.executable, "-m", "pytest", *suites, "-q", "-p", "no:cacheprovider",
                    "-p", "_trouble_plugin", "--mb-batch", str(batch),
                    "--mb-bench", str(ROOT / "benches" / "emulated-fast.toml"),
                    "--mb-triage-json", str(out)],
                   cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    return [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []


def main() -> int:
    """Run every (stage, trouble) and print the counts; exit 1 if any verdict is FAULT."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stages", default=",".join(STAGES))
    parser.add_argument("--kinds", default=",".join(KINDS))
    args = parser.parse_args()
    totals: Counter[str] = Counter()
    faults: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        batch = folder / "healthy.csv"
        devices = healthy_batch(batch)
        for kind in args.kinds.split(","):
            per_kind: Counter[str] = Counter()
            for stage in args.stages.split(","):
                lines = run(folder, batch, stage, kind)
                if kind == "unpowered" and 0 < len(lines) < devices:
                    # a stage alone runs only for the types it has tests for (WAN: hubs)
                    per_kind["(stage not for its type)"] += devices - len(lines)
                elif len(lines) != devices:
                    per_kind["MISSING"] += devices - len(lines)
                for line in lines:
                    per_kind[line["verdict"]] += 1
                    if line["verdict"] == "FAULT":
                        faults.append(f"{stage} {kind} {line['item']} {line['device_type']}: "
                                      f"{line['category']}: {line['why']}")
            totals += per_kind
            print(f"{kind:<10} " + "  ".join(f"{k} {v}" for k, v in sorted(per_kind.items())),
                  flush=True)
    print("overall    " + "  ".join(f"{k} {v}" for k, v in sorted(totals.items())))
    print(f"FAULT {totals['FAULT']}")
    for line in faults:
        print("  " + line)
    if totals["MISSING"]:
        print(f"MISSING {totals['MISSING']}: runs that gave no verdict (see the suites)")
    return 1 if totals["FAULT"] or totals["MISSING"] else 0


if __name__ == "__main__":
    sys.exit(main())
