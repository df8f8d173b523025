"""Verdicts at a time scale against the same seeded batch in real time (x1): identical or not.

The issue's throughput target holds only at a time scale whose verdicts are the ones real time
gives: every device of one seeded batch (about six, healthy and faulty, all three device types)
is triaged on the fast emulated bench at x1 and at each chosen scale, and each device's
verdict and fault category are compared. Seeds from ``--seed`` up are tried until the drawn
batch holds every device type and both healthy and faulty devices. Exit 0 when every scale
agrees with x1 on every device, 1 otherwise (the differing devices are printed).
Run: python benchmarks/scale_parity.py [--devices 6] [--seed 7] [--scales 30 100] [--workers 1]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from _fast_bench import fast_bench_file
from campaign_rate import triage_once

from harness.domain.types import DeviceType
from harness.emulator.world.population import PopulationSpec, generate
from harness.results.store import ResultStore
from harness.triage.intake import BatchRow, write_csv

Outcome = dict[str, tuple[str, str]]  # item key -> (verdict, category)
TYPES = {DeviceType.CHF, DeviceType.ESME, DeviceType.GSME}


def seeded_batch(devices: int, seed: int, tries: int = 200) -> tuple[int, list[BatchRow]]:
    """The first seed from ``seed`` whose batch has every device type, healthy and faulty."""
    for s in range(seed, seed + tries):
        rows = generate(PopulationSpec(devices, seed=s, no_fault_ratio=0.5))
        kinds = {r.device_type for r in rows}
        healthy = {r.truth_verdict == "NO_FAULT_FOUND" for r in rows}
        if kinds >= TYPES and healthy == {True, False}:
            return s, rows
    raise SystemExit(f"no seed in {seed}..{seed + tries - 1} draws every device type, "
                     f"healthy and faulty, in {devices} devices (try --devices 6 or more)")


def outcomes(db: Path) -> Outcome:
    """Each device's verdict and category in a run's results database."""
    with ResultStore.open(f"sqlite:///{db}", create=False) as store:
        return {r.item_key: (r.verdict, r.category or "-") for r in store.results(light=True)}


def compare(reference: Outcome, other: Outcome) -> list[str]:
    """The item keys whose verdict or category differ (or that one run lacks)."""
    return sorted(k for k in reference.keys() | other.keys()
                  if reference.get(k) != other.get(k))


def main(argv: Sequence[str] | None = None) -> int:
    """Triage the batch at x1 and at each scale; print every device's outcome; 0 if equal."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=6, help="batch size")
    parser.add_argument("--seed", type=int, default=7, help="first population seed tried")
    parser.add_argument("--scales", type=float, nargs="+", default=[30.0, 100.0],
                        help="time scales compared with x1")
    parser.add_argument("--workers", type=int, default=1, help="workers of every run")
    args = parser.parse_args(argv)
    seed, rows = seeded_batch(args.devices, args.seed)
    with tempfile.TemporaryDirectory(prefix="mb-scale-parity-") as tmp_name:
        tmp = Path(tmp_name)
        batch = tmp / f"batch-seed{seed}.csv"
        write_csv(rows, batch)
        bench = fast_bench_file(tmp)
        print(f"batch: {len(rows)} devices, seed {seed}: "
              + ", ".join(f"{r.device_type.name} ({r.truth_verdict}/"
                          f"{getattr(r.truth_category, 'name', r.truth_category)})"
                          for r in rows)
              + f"; {args.workers} worker(s); load average {os.getloadavg()[0]:.2f}")
        results: dict[float, Outcome] = {}
        for scale in [1.0, *args.scales]:
            db = tmp / f"x{scale:g}.db"
            start = time.perf_counter()
            triage_once(bench, batch, args.workers, scale, db, len(rows))
            results[scale] = outcomes(db)
            print(f"x{scale:g}: {time.perf_counter() - start:.1f} s", flush=True)
        keys = sorted(results[1.0], key=lambda k: (len(k), k))
        print(f"{'item':<8} " + " ".join(f"{'x' + format(s, 'g'):<34}" for s in results))
        for key in keys:
            cells = ("/".join(results[s].get(key, ("missing",))) for s in results)
            print(f"{key:<8} " + " ".join(f"{c:<34}" for c in cells))
        failed = 0
        for scale in args.scales:
            differ = compare(results[1.0], results[scale])
            failed += bool(differ)
            print(f"x{scale:g} against x1: "
                  + ("every verdict and category identical" if not differ
                     else f"DIFFERENT on {', '.join(differ)}"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
