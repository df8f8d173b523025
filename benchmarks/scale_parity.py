"""Verdicts at a time scale against the same seeded batch in real time (x1): identical or not.

The issue's throughput target holds only at a time scale whose verdicts are the ones real time
gives: every device of one seeded batch (about six, healthy and faulty, all three device types)
is triaged on the fast emulated bench at x1 and at each chosen scale, and each device's
verdict and fault category are compared. Seeds from ``--seed`` up are tried until the drawn
batch holds every device type and both healthy and faulty devices. Exit 0 when every scale
agrees with x1 on every device, 1 otherwise (the differing devices are printed).

A small drawn batch rarely holds the fault a time scale breaks first: TRI-DIAG-01 bounds each
clock read by the host's round trip, which does not shrink with the scale, so a fast bench
knows a clock's rate less well per bench second, and a drift at the catalogue's low bound
(2000 ppm) can pass for a good clock. So one device of each type with exactly that drift is
added (``--no-edge`` leaves them out). They showed (load 9-12 from other work on the 2 cores)
that while the window's cap was ``max_window_s`` bench seconds, x100 (0.6 s of wall time)
let two of the three pass as NO_FAULT_FOUND (uncertainty 1900-2200 ppm) and x50 was marginal
(2096 +- 1988 ppm); the window needs about 1100 read widths of wall time to know a rate to
1000 ppm whatever the scale (a width is the host's round trip, 0.5-1 ms here). With the cap
at ``max_window_s`` of wall time on a fast bench, x30, x50 and x100 agree with x1 on every
device of seeds 7 and 11. With the probes in process (2026-12-05, 21:00): x100 and x200 agree
with x1 on every device of seeds 7 and 11 (x1 133 and 171 s, x200 4.8 and 5.0 s), which is why
fast mode goes up to x200 (``harness.config.models.MAX_TIME_SCALE``).
Run: python benchmarks/scale_parity.py [--devices 6] [--seed 7] [--scales 200] [--workers 1]
[--no-edge]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from _fast_bench import fast_bench_file
from campaign_rate import triage_once

from harness.domain.types import DeviceType
from harness.domain.vocabulary import FaultCategory
from harness.emulator.world.faults import CATALOGUE
from harness.emulator.world.population import PopulationSpec, generate
from harness.results.store import ResultStore
from harness.triage.intake import BatchRow, Verdict, write_csv

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


def edge_devices(rows: list[BatchRow], seed: int) -> list[BatchRow]:
    """One device of each type whose clock drifts at the catalogue's lowest drawn rate (the
    hardest clock fault to tell), numbered after ``rows`` and drawn from another seed."""
    drift = CATALOGUE["clock_drift"]
    taken = {r.device_id for r in rows}
    healthy = [r for r in generate(PopulationSpec(60, seed=seed + 10_000, no_fault_ratio=1.0))
               if r.device_id not in taken]
    picked = [next(r for r in healthy if r.device_type is kind)
              for kind in sorted(TYPES, key=lambda t: t.name)]
    return [dataclasses.replace(r, item=len(rows) + i, truth_faults=(f"clock_drift:{drift.low:g}",),
                                truth_verdict=Verdict.FAULT,
                                truth_category=FaultCategory.HARDWARE)
            for i, r in enumerate(picked, start=1)]


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
    parser.add_argument("--scales", type=float, nargs="+", default=[200.0],
                        help="time scales compared with x1")
    parser.add_argument("--workers", type=int, default=1, help="workers of every run")
    parser.add_argument("--edge", action=argparse.BooleanOptionalAction, default=True,
                        help="add a device of each type with a clock drift at the "
                             "catalogue's low bound (default: on)")
    args = parser.parse_args(argv)
    seed, rows = seeded_batch(args.devices, args.seed)
    if args.edge:
        rows += edge_devices(rows, seed)
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
