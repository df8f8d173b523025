"""Every bad input of every ``meterbench`` command, each run as a real process: does it give
one clear error line and the documented exit status (issue 12, section 6)?

Run: ``python benchmarks/bad_inputs.py [--json] [--command PATH]`` (default command: the
``meterbench`` beside this Python, i.e. ``.venv/bin/meterbench``).  Prints one line per case
(status got/expected, clear yes/no and why not) and "N of M with a clear error and the
documented status"; ``--json`` prints one JSON object with the cases and the totals instead.
The case table is ``tests/_bad_input_cases.py``, shared with ``tests/test_cli_bad_input.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from _bad_input_cases import CASES, prepare, run_process


def main() -> int:
    """Run every case; print the per-case lines and the total (or JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--command", default=str(Path(sys.executable).parent / "meterbench"),
                        help="the meterbench executable")
    args = parser.parse_args()
    os.environ.setdefault("MB_LOCK_DIR", tempfile.mkdtemp(prefix="mb-bad-input-locks-"))
    results = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="mb-bad-input-") as tmp:
        scratch = Path(tmp) / "inputs"
        places = prepare(scratch)
        for case in CASES:
            outcome = run_process(case, scratch, places, [args.command], timeout=60)
            results.append(outcome)
            if not args.json:
                clear = "yes" if outcome.clear else "no: " + "; ".join(outcome.problems)
                mark = "ok  " if outcome.ok else "FAIL"
                owner = f" [fixed by the {case.owner} part]" if case.owner and not outcome.ok \
                    else ""
                print(f"{mark} {case.name:<45} status {outcome.status}/{case.status}  "
                      f"clear {clear}{owner}", flush=True)
    good = sum(o.ok for o in results)
    total = len(results)
    if args.json:
        print(json.dumps({
            "cases": [{"name": o.case.name, "args": list(o.case.args), "expected": o.case.status,
                       "status": o.status, "clear": o.clear, "ok": o.ok,
                       "problems": o.problems, "message": o.lines[:3],
                       "owner": o.case.owner or None} for o in results],
            "ok": good, "total": total, "seconds": round(time.monotonic() - started, 1),
        }))
    else:
        print(f"{good} of {total} with a clear error and the documented status "
              f"({time.monotonic() - started:.0f} s)")
    return 0 if good == total else 1


if __name__ == "__main__":
    sys.exit(main())
