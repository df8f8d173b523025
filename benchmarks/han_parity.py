"""Issue 19's "Done when": the whole catalogue triaged on a Telegesis bench and on an EZSP
bench, every device's verdict compared, and TRI-HAN-03's RSSI counted.

One device per (fault, device type) of the catalogue plus no-fault devices
(``catalogue_batch``), triaged end to end by ``meterbench triage --batch --json`` on
``benches/emulated-fast.toml`` (Telegesis) and ``benches/emulated-ezsp.toml`` (EZSP). Prints
the devices triaged, how many verdicts (verdict and category) agree, the ones that differ,
and how many meters got a han_rssi on each bench.

    python benchmarks/han_parity.py [--limit N] [--seed 11] [--workers 1] [--json]
        [--types CHF,...] [--faults han_,...] [--return-type prior|post]

The whole catalogue takes about 20 minutes a bench on a 2-core machine; ``--limit`` takes
the first N devices, ``--types`` the devices of those types, ``--faults`` those with a fault
whose key starts with one of the prefixes (``none`` for the no-fault devices), both together
their union; ``--return-type prior`` triages them as returned before installation (no field
history). It also counts the verdicts that match the truth columns, and the hubs the dongle
joined (``hub_admits_dongle``). Exit status 0 when every verdict agrees, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from harness.domain.types import DeviceType  # noqa: E402
from harness.domain.vocabulary import NO_FAULT  # noqa: E402
from harness.emulator.world.population import catalogue_batch  # noqa: E402
from harness.triage.intake import BatchRow, ReturnType, write_csv  # noqa: E402

BENCHES = {"telegesis": REPO / "benches" / "emulated-fast.toml",
           "ezsp": REPO / "benches" / "emulated-ezsp.toml"}


def triage(batch: Path, bench: Path, workers: int, folder: Path) -> dict[str, dict]:
    """The verdict lines by item of ``batch`` triaged on ``bench``."""
    proc = subprocess.run(
        [sys.executable, "-m", "harness", "triage", "--batch", str(batch), "--json",
         "--bench", str(bench), "--workers", str(workers), "--operator", "benchmark"],
        capture_output=True, text=True, cwd=folder, timeout=6 * 3600)
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise SystemExit(f"{bench.name}: no verdicts\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return {line["item"]: line for line in lines}


def chosen(rows: list[BatchRow], types: str, faults: str) -> list[BatchRow]:
    """The rows of ``types`` (comma-separated names) or with a fault key starting with one of
    ``faults`` (``none``: no fault); all rows when neither is given."""
    kinds = {DeviceType[t.strip().upper()] for t in types.split(",") if t.strip()}
    prefixes = [f.strip() for f in faults.split(",") if f.strip()]

    def fault_match(row: BatchRow) -> bool:
        return any((f == NO_FAULT and p == "none") or (f != NO_FAULT and f.startswith(p))
                   for f in row.truth_faults for p in prefixes)

    if not kinds and not prefixes:
        return rows
    return [r for r in rows if r.device_type in kinds or fault_match(r)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=0, help="only the first N devices")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="one JSON summary line")
    parser.add_argument("--types", default="", help="only devices of these types (CHF,ESME)")
    parser.add_argument("--faults", default="",
                        help="only devices with a fault key starting so (han_,none)")
    parser.add_argument("--return-type", choices=("prior", "post"), default="post",
                        help="returned before installation or after (default: after)")
    args = parser.parse_args()
    returned = (ReturnType.PRIOR_TO_INSTALLATION if args.return_type == "prior"
                else ReturnType.POST_INSTALLATION)
    rows = chosen(catalogue_batch(seed=args.seed, return_type=returned), args.types,
                  args.faults)
    if args.limit:
        rows = rows[:args.limit]
    with tempfile.TemporaryDirectory(prefix="han-parity-") as tmp:
        folder = Path(tmp)
        batch = folder / "batch.csv"
        write_csv(rows, batch)
        runs, took = {}, {}
        for name, bench in BENCHES.items():
            (folder / name).mkdir()
            start = time.monotonic()
            runs[name] = triage(batch, bench, args.workers, folder / name)
            took[name] = round(time.monotonic() - start, 1)
    differ = []
    for row in rows:
        item = f"item{row.item}"
        got = {name: runs[name].get(item) for name in BENCHES}
        seen = {name: (line["verdict"], line["category"]) if line else None
                for name, line in got.items()}
        if len(set(seen.values())) != 1:
            differ.append({"item": item, "type": row.device_type.name,
                           "faults": list(row.truth_faults), **seen})
    rssi = {name: sum(1 for line in lines.values()
                      if any(m["name"] == "han_rssi" for m in line["measurements"]))
            for name, lines in runs.items()}
    truth = {name: sum(1 for row in rows if (line := lines.get(f"item{row.item}"))
                       and line["verdict"] == row.truth_verdict.value
                       and (line["category"] or "none") == row.truth_category.value)
             for name, lines in runs.items()}
    missed = [{"item": f"item{row.item}", "type": row.device_type.name,
               "faults": list(row.truth_faults),
               "truth": (row.truth_verdict.value, row.truth_category.value),
               **{name: (lines[f"item{row.item}"]["verdict"],
                         lines[f"item{row.item}"]["category"] or "none")
                  for name, lines in runs.items() if f"item{row.item}" in lines}}
              for row in rows
              if any((line := lines.get(f"item{row.item}")) is None
                     or (line["verdict"], line["category"] or "none")
                     != (row.truth_verdict.value, row.truth_category.value)
                     for lines in runs.values())]
    admitted = {name: sum(1 for line in lines.values() if any(
        m["name"] == "hub_admits_dongle" and m["passed"] for m in line["measurements"]))
        for name, lines in runs.items()}
    summary = {"devices": len(rows), "agree": len(rows) - len(differ), "differ": differ,
               "match_truth": truth, "not_the_truth": missed,
               "hubs_admitting_dongle": admitted,
               "han_rssi_measured": rssi, "seconds": took}
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"devices {len(rows)}  verdicts agree {summary['agree']}  differ {len(differ)}")
        for d in differ:
            print(f"  {d}")
        print(f"verdicts matching the truth: {truth}  hubs admitting the dongle: {admitted}")
        for m in missed:
            print(f"  not the truth: {m}")
        print(f"devices with a han_rssi: {rssi}  seconds: {took}")
    return 0 if not differ else 1


if __name__ == "__main__":
    raise SystemExit(main())
