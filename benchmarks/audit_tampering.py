"""Issue 12, section 4: the nine insider tamperings, each on a fresh 20-entry audit log.

Each log is made with its own key and checkpointed at its end (to a file outside the
database); the case is then applied with plain SQL (harness/triage/audit_tampering.py) and
the log verified twice: as ``audit verify --checkpoint FILE`` would (counted) and on its own
(shown, to say what the checkpoint adds).  A case is detected when verify reports the log
tampered.  Prints "detected N of 9" and one line per case; ``--json`` prints one object.
Run: python benchmarks/audit_tampering.py [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from harness.triage.audit import verify_log
from harness.triage.audit_checkpoint import verify_against_checkpoints
from harness.triage.audit_tampering import CASES, ENTRIES, make_scene


def run_case(folder: Path, name: str, apply: Any) -> dict[str, Any]:
    """Apply one case to a fresh log in ``folder``; what verify said, with and without the
    checkpoint."""
    scene = make_scene(folder)
    before = verify_against_checkpoints(scene.checkpoints, scene.url, key=scene.key)
    if not before.ok:
        raise SystemExit(f"{name}: the fresh log does not verify: {before.problems}")
    started = time.perf_counter()
    apply(scene)
    report = verify_against_checkpoints(scene.checkpoints, scene.url, key=scene.key)
    alone = verify_log(scene.url, key=scene.key)
    return {"case": name, "detected": report.tampered,
            "detected_without_checkpoint": alone.tampered,
            "kinds": sorted({p.kind for p in report.problems}),
            "first_problem": report.problems[0].message if report.problems else None,
            "warnings": len(report.warnings),
            "seconds": round(time.perf_counter() - started, 4)}


def main(argv: list[str] | None = None) -> int:
    """Run the nine cases; exit 0 when all nine are detected, 1 otherwise."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="meterbench-tamper-") as tmp:
        results = [run_case(Path(tmp) / name.split()[0], name, apply) for name, apply in CASES]
    detected = sum(r["detected"] for r in results)
    if args.json:
        print(json.dumps({"entries_per_log": ENTRIES, "cases": results, "detected": detected,
                          "total": len(results),
                          "detected_without_checkpoint": sum(
                              r["detected_without_checkpoint"] for r in results)}))
    else:
        print(f"tampering cases: detected {detected} of {len(results)} "
              f"({ENTRIES}-entry logs, verify with a checkpoint)")
        for r in results:
            mark = "detected" if r["detected"] else "MISSED  "
            alone = "yes" if r["detected_without_checkpoint"] else "no (checkpoint needed)"
            print(f"  {mark} {r['case']:<52} kinds={','.join(r['kinds']) or '-'}; "
                  f"without checkpoint: {alone}")
    return 0 if detected == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
