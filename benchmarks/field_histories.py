"""How the triage fares on devices with ordinary field histories: the issue-14 "Done when"
counts for scenario devices and for a generated batch with histories on.

Triages a scenario file (default: benches/scenarios/field-histories.yaml) and, with
``--size N``, a seeded generated batch whose healthy devices carry histories, through
``meterbench triage --json`` on the fast emulated bench; prints, per scenario device, its
truth, the verdict and the clauses that failed, then the counts: healthy-with-history devices
ending NO_FAULT_FOUND, faulty ones in their true category, and the batch's agreement with
its truth (with the clauses behind each disagreement).
Run: python benchmarks/field_histories.py [--scenario F] [--size 300] [--seed 7] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from harness.config.loader import default_bench_path
from harness.emulator.world.population import PopulationSpec, generate
from harness.emulator.world.scenario import load_scenario
from harness.triage.intake import BatchRow, Verdict, write_csv

EXAMPLE = default_bench_path().parent / "scenarios" / "field-histories.yaml"
FAST = default_bench_path().parent / "emulated-fast.toml"


def triage(rows: list[BatchRow], workers: int) -> dict[int, dict]:
    """Every row's verdict record from one ``meterbench triage --json`` run, by item."""
    with tempfile.TemporaryDirectory() as folder:
        batch = Path(folder) / "batch.csv"
        write_csv(rows, batch)
        done = subprocess.run(
            [sys.executable, "-m", "harness", "triage", "--batch", str(batch), "--json",
             "--bench", str(FAST), "--workers", str(workers), "--operator", "bench"],
            capture_output=True, text=True, cwd=folder, check=False)
    found = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    if len(found) != len(rows):
        raise SystemExit(f"{len(found)} verdicts for {len(rows)} devices:\n"
                         + done.stderr[-2000:])
    return {int(v["item"].removeprefix("item")): v for v in found}


def failed_clauses(verdict: dict) -> list[str]:
    """The clauses whose measurements failed, and the one the verdict's why names."""
    clauses = {m["clause"] for m in verdict.get("measurements", []) if m["passed"] is False}
    why = verdict["why"].split(":", 1)[0]
    if why.startswith("TRI-"):
        clauses.add(why)
    return sorted(clauses)


def agrees(row: BatchRow, verdict: dict) -> bool:
    """Whether the verdict is the row's truth (verdict, and category for a FAULT)."""
    if row.truth_verdict is Verdict.NO_FAULT_FOUND:
        return bool(verdict["verdict"] == "NO_FAULT_FOUND")
    return bool(verdict["verdict"] == "FAULT"
                and verdict["category"] == row.truth_category.value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", type=Path, default=EXAMPLE)
    parser.add_argument("--size", type=int, default=0, help="a generated batch too (0: none)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    rows = load_scenario(args.scenario)
    verdicts = triage(rows, args.workers)
    print(f"scenario {args.scenario}")
    for row in rows:
        v = verdicts[row.item]
        mark = "ok " if agrees(row, v) else "BAD"
        print(f"  {mark} item{row.item} {row.device_type.name:4} {';'.join(row.truth_faults):22}"
              f" truth {row.truth_verdict.value} {row.truth_category.value:15} got "
              f"{v['verdict']} {v['category'] or '-':15} failed {','.join(failed_clauses(v))}")
    healthy = [r for r in rows if r.truth_verdict is Verdict.NO_FAULT_FOUND]
    faulty = [r for r in rows if r.truth_verdict is Verdict.FAULT]
    print(f"healthy with a history, NO_FAULT_FOUND: "
          f"{sum(agrees(r, verdicts[r.item]) for r in healthy)}/{len(healthy)}")
    print(f"faulty, FAULT in the true category: "
          f"{sum(agrees(r, verdicts[r.item]) for r in faulty)}/{len(faulty)}")

    if args.size:
        batch = generate(PopulationSpec(args.size, args.seed, histories=True))
        got = triage(batch, args.workers)
        right = sum(agrees(r, got[r.item]) for r in batch)
        print(f"generated batch of {args.size} (seed {args.seed}, histories on): "
              f"{right}/{args.size} agree with the truth")
        with_history = [r for r in batch if r.history]
        print(f"  healthy with a history, NO_FAULT_FOUND: "
              f"{sum(agrees(r, got[r.item]) for r in with_history)}/{len(with_history)}")
        why = Counter(",".join(failed_clauses(got[r.item])) or got[r.item]["why"][:60]
                      for r in batch if not agrees(r, got[r.item]))
        for clauses, count in why.most_common():
            print(f"  {count:4} disagree, failed: {clauses}")
        for r in batch:
            v = got[r.item]
            if not agrees(r, v):
                print(f"  item{r.item} {r.device_type.name} {r.return_type.value} "
                      f"{';'.join(r.truth_faults)} [{r.history}] -> {v['verdict']} "
                      f"{v['category'] or '-'}: {v['why'][:160]}")


if __name__ == "__main__":
    main()
