"""Issue 12's "done when", from one run: the signal matrix, the audit tampering cases, the fuzz
campaigns against every server and parser, and every known bad input of the command line.

Each part is its own script in this folder (run one alone to see its per-case lines); this one
runs them in turn as child processes, reads each one's ``--json`` object and prints a line per
part, green when nothing is missed. ``--quick`` shortens the fuzz campaigns (the other parts
always run whole); ``--json`` prints one object with every part's own totals.

    python benchmarks/hardening_report.py            # about 20 minutes on 2 cores
    python benchmarks/hardening_report.py --quick    # about 7 minutes
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Part:
    """One script of the report: how to run it and how to read its JSON object."""

    name: str
    script: str
    quick_args: tuple[str, ...]
    judge: Callable[[dict[str, Any]], tuple[bool, str]]


def _signals(d: dict[str, Any]) -> tuple[bool, str]:
    t = d["totals"]
    return t["red"] == 0 and t["cells"] > 0, (
        f"{t['green']}/{t['cells']} cells green: outputs off {t['outputs_off']}/{t['cells']}, "
        f"lock free {t['lock_free']}/{t['cells']}, device re-triaged on resume "
        f"{t['retriaged_ok']}/{t['triage_cells']}")


def _tampering(d: dict[str, Any]) -> tuple[bool, str]:
    return d["detected"] == d["total"] == 9, (
        f"detected {d['detected']} of {d['total']} "
        f"({d['detected_without_checkpoint']} without a checkpoint)")


def _servers(d: dict[str, Any]) -> tuple[bool, str]:
    t = d["totals"]
    targets = d["targets"].values() if isinstance(d["targets"], dict) else d["targets"]
    peak = max((r.get("growth_mib", 0.0) for r in targets), default=0.0)
    return bool(d["ok"]), (
        f"{t['inputs']:,} inputs over {len(d['targets'])} servers: "
        f"{t['undocumented_exceptions']} undocumented exceptions, {t['hangs']} hangs, "
        f"memory bounded: {'yes' if t['all_bounded'] else 'NO'} (largest growth {peak:.1f} MiB)")


def _parsers(d: dict[str, Any]) -> tuple[bool, str]:
    t = d["totals"]
    return t["undocumented"] == 0 and t["hangs"] == 0, (
        f"{t['inputs']:,} inputs over {t['targets']} parsers and drivers: "
        f"{t['undocumented']} undocumented exceptions, {t['hangs']} hangs, "
        f"peak {t['max_peak_kib'] / 1024:.1f} MiB (tracemalloc)")


def _bad_inputs(d: dict[str, Any]) -> tuple[bool, str]:
    return d["ok"] == d["total"], (
        f"{d['ok']} of {d['total']} with one clear error and the documented status")


PARTS = (
    Part("signal matrix", "signal_matrix.py", (), _signals),
    Part("audit tampering", "audit_tampering.py", (), _tampering),
    Part("fuzz: servers", "fuzz_servers.py", ("--quick",), _servers),
    Part("fuzz: parsers", "fuzz_parsers.py", ("--quick",), _parsers),
    Part("bad inputs", "bad_inputs.py", (), _bad_inputs),
)


def _json_object(stdout: str) -> dict[str, Any]:
    """The script's JSON object: from its first line that opens one to the end."""
    lines = stdout.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("{"):
            return json.loads("\n".join(lines[i:]))
    raise ValueError("no JSON object on stdout")


def run_part(part: Part, quick: bool) -> dict[str, Any]:
    """Run one part's script; its verdict line, figures and time."""
    cmd = [sys.executable, str(HERE / part.script), "--json", *(part.quick_args if quick else ())]
    started = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    seconds = round(time.monotonic() - started, 1)
    try:
        data = _json_object(proc.stdout)
        green, line = part.judge(data)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        tail = proc.stderr.strip().splitlines()[-3:]
        return {"part": part.name, "green": False, "seconds": seconds, "data": None,
                "line": f"no result ({exc}; exit {proc.returncode}): {' | '.join(tail)}"}
    return {"part": part.name, "green": green and proc.returncode == 0, "seconds": seconds,
            "line": line, "data": data}


def main(argv: list[str] | None = None) -> int:
    """Run every part; exit 0 only when every part is green."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short fuzz campaigns")
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    parser.add_argument("--parts", nargs="*", choices=[p.name for p in PARTS],
                        default=[p.name for p in PARTS])
    args = parser.parse_args(argv)
    results = []
    for part in PARTS:
        if part.name not in args.parts:
            continue
        result = run_part(part, args.quick)
        results.append(result)
        if not args.json:
            mark = "green" if result["green"] else "RED  "
            print(f"{mark} {part.name:<16} {result['line']}  ({result['seconds']:.0f} s)",
                  flush=True)
    green = all(r["green"] for r in results)
    if args.json:
        print(json.dumps({"parts": results, "green": green, "quick": args.quick}))
    else:
        print(f"issue 12: {sum(r['green'] for r in results)}/{len(results)} parts green"
              + (" (quick fuzz campaigns)" if args.quick else ""))
    return 0 if green else 1


if __name__ == "__main__":
    sys.exit(main())
