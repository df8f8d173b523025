"""Campaigns of growing size on the emulated bench: time, peak memory and store size per device.

The issue's Scale line: a 10,000-device campaign with time linear in devices, peak memory flat
(under 300 MB per process) and the store linear. Campaigns of, e.g., 100, 200 and 400 devices
(one generated batch each: same seed, same mix) run as whole ``meterbench triage`` processes
on the fast emulated bench at a chosen time scale and worker count; for each, the wall time
per device, the peak RSS of each process — the triage process (with ``--workers`` above 1 the
pytest-xdist controller) and the largest of its workers, read from ``/proc/<pid>/status``
(VmHWM) every half second (Linux; elsewhere only ``os.wait4``'s ru_maxrss, the largest process
of the run) — and the results database's bytes per device. Between sizes it prints each
process's memory growth per device (the slope of its peak), which must be near zero for a
10,000-device campaign to stay under 300 MB a process. From the largest campaign it projects
what 10,000 devices take (time, store, and each process's peak from its growth between the
two largest sizes); flat memory and a constant per-device time are what make that projection
fair, and the table shows whether they hold.
Run: python benchmarks/campaign_scale.py [--sizes 100 200 400] [--time-scale 100] [--workers 2]
[--segment N] (``--segment 0``: one pytest session for the whole batch, as before segments)
[--keep DIR] (keep each campaign's batch and results database there, e.g. to time
``meterbench report`` on the store of a real 10,000-device campaign)
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from _fast_bench import fast_bench_file
from _proc_memory import ProcessTreeMemory
from campaign_rate import FAILED_RUN_CODES, _recorded
from results_store_scale import MB, db_bytes

from harness.emulator.world.population import PopulationSpec, generate
from harness.triage.intake import write_csv

LIMIT_MB = 300  # the issue: peak memory under 300 MB per process
TARGET = 10_000


@dataclass
class Run:
    """One campaign's wall time, peaks (bytes) and store size."""

    seconds: float
    peak: int  # the largest process of the run (os.wait4)
    controller: int  # the triage process (0 where /proc is not there)
    worker: int  # its largest child process, e.g. a pytest-xdist worker (0: none seen)
    store: int
    timeline: list[int]  # the triage process's RSS at each tenth of the run (flat or not)


def campaign(bench: Path, batch: Path, workers: int, scale: float, db: Path,
             devices: int, segment: int | None = None) -> Run:
    """Wall seconds and peak RSS (bytes) of one whole ``meterbench triage`` run."""
    command = [sys.executable, "-m", "harness", "triage", "--bench", str(bench),
               "--batch", str(batch), "--workers", str(workers),
               "--time-scale", f"{scale:g}", "--db", f"sqlite:///{db}"]
    if segment is not None:
        command += ["--segment", str(segment)]
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             text=True)
    with ProcessTreeMemory(child.pid) as memory:
        _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    stderr = child.stderr.read() if child.stderr else ""
    recorded = _recorded(db)
    if code in FAILED_RUN_CODES or recorded != devices:
        tail = "\n".join(stderr.strip().splitlines()[-15:])
        raise SystemExit(f"{devices} devices: exit {code}, {recorded} recorded in {db}\n{tail}")
    peak = usage.ru_maxrss if sys.platform == "darwin" else usage.ru_maxrss * 1024
    worker = memory.largest_descendant()
    root = memory.processes.get(child.pid)
    samples = root.samples if root else []
    timeline = [samples[len(samples) * tenth // 10 - 1][1] for tenth in range(1, 11)] \
        if len(samples) >= 10 else []
    return Run(elapsed, peak, memory.root_peak(), worker.peak if worker else 0, db_bytes(db),
               timeline)


def _slope(peaks: dict[int, float], small: int, large: int) -> float:
    """Growth in MB per device between two campaign sizes."""
    return (peaks[large] - peaks[small]) / MB / (large - small)


def main() -> None:
    """Run a campaign per size; print the table, the growth and the 10,000-device projection."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 200, 400],
                        help="devices per campaign")
    parser.add_argument("--time-scale", type=float, default=100.0, help="fast mode scale")
    parser.add_argument("--workers", type=int, default=2, help="pytest-xdist workers")
    parser.add_argument("--seed", type=int, default=7, help="population seed")
    parser.add_argument("--healthy", action="store_true", help="healthy devices only")
    parser.add_argument("--runs", type=int, default=1, help="runs per size (median)")
    parser.add_argument("--segment", type=int, default=None,
                        help="devices per pytest session (meterbench triage --segment; 0: "
                             "the whole batch in one session, as before segments)")
    parser.add_argument("--keep", type=Path, default=None,
                        help="keep the batches and results databases in this folder")
    args = parser.parse_args()
    if min(args.sizes) < 1 or args.runs < 1 or args.workers < 1:
        parser.error("--sizes, --runs and --workers must be 1 or more")
    sizes = sorted(set(args.sizes))
    with tempfile.TemporaryDirectory(prefix="mb-campaign-scale-") as tmp_name:
        tmp = Path(tmp_name)
        bench = fast_bench_file(tmp)
        if args.keep is not None:
            args.keep.mkdir(parents=True, exist_ok=True)
            tmp = args.keep
        print(f"fast emulated bench, time scale x{args.time_scale:g}, {args.workers} "
              f"worker(s), {'healthy' if args.healthy else 'mixed'} batches of seed "
              f"{args.seed}, {args.runs} run(s) per size, segments of "
              f"{'the default' if args.segment is None else args.segment or 'all'} devices; "
              f"{os.cpu_count()} cores, load "
              f"average {os.getloadavg()[0]:.2f}")
        print(f"{'devices':>7} {'faulty':>6} {'wall s':>8} {'s/device':>9} {'dev/min':>8} "
              f"{'peak MB':>8} {'ctrl MB':>8} {'worker MB':>9} {'store MB':>9} "
              f"{'KB/device':>10}")
        per_device: dict[int, float] = {}
        store: dict[int, float] = {}
        peaks: dict[int, float] = {}
        controller: dict[int, float] = {}
        worker: dict[int, float] = {}
        for size in sizes:
            rows = generate(PopulationSpec(size, seed=args.seed,
                                           no_fault_ratio=1.0 if args.healthy else 0.6))
            batch = tmp / f"batch-{size}.csv"
            write_csv(rows, batch)
            runs = [campaign(bench, batch, args.workers, args.time_scale,
                             tmp / f"campaign-{size}-{run}.db", size, args.segment)
                    for run in range(args.runs)]
            seconds = statistics.median(r.seconds for r in runs)
            peaks[size] = max(r.peak for r in runs)
            controller[size] = statistics.median(r.controller for r in runs)
            worker[size] = statistics.median(r.worker for r in runs)
            store_bytes = statistics.median(r.store for r in runs)
            store[size] = store_bytes / size
            per_device[size] = seconds / size
            faulty = sum(r.truth_verdict != "NO_FAULT_FOUND" for r in rows)
            print(f"{size:>7} {faulty:>6} {seconds:>8.1f} {per_device[size]:>9.3f} "
                  f"{size / seconds * 60:>8.1f} {peaks[size] / MB:>8.1f} "
                  f"{controller[size] / MB:>8.1f} {worker[size] / MB:>9.1f} "
                  f"{store_bytes / MB:>9.2f} {store[size] / 1024:>10.1f}", flush=True)
            if runs[0].timeline:
                print(f"{'':>7} triage process RSS MB at each tenth of the run: "
                      + " ".join(f"{rss / MB:.0f}" for rss in runs[0].timeline), flush=True)
        small, large = sizes[0], sizes[-1]
        per_process = controller[large] > 0
        for low, high in itertools.pairwise(sizes):
            growth = (f"controller {_slope(controller, low, high):+.4f}, largest worker "
                      f"{_slope(worker, low, high):+.4f}" if per_process
                      else f"largest process {_slope(peaks, low, high):+.4f}")
            print(f"growth {low} -> {high} devices, MB per device: {growth}")
        if large != small:
            print(f"linearity {small} -> {large} devices: time per device x"
                  f"{per_device[large] / per_device[small]:.2f}, store bytes per device x"
                  f"{store[large] / store[small]:.2f}, largest process's peak RSS x"
                  f"{peaks[large] / peaks[small]:.2f}")
        hours = per_device[large] * TARGET / 3600
        print(f"{TARGET:,} devices at this rate: {hours:.1f} h ({per_device[large]:.3f} s a "
              f"device), store {store[large] * TARGET / 1024 ** 3:.2f} GiB", end="")
        if large == small:
            print(f"; peak RSS {peaks[large] / MB:.0f} MB (one size: no growth measured)")
        else:
            named = ({"controller": controller, "largest worker": worker} if per_process
                     else {"largest process": peaks})
            # the slope between the two largest sizes: a segmented campaign's sessions are
            # full from --segment devices on, so smaller sizes still ramp up to it
            before = sizes[-2]
            projected = {name: (values[large] + _slope(values, before, large) * MB
                                * (TARGET - large)) / MB for name, values in named.items()}
            print(f"; projected peak (growth {before} -> {large}) " + ", ".join(
                f"{name} {mb:.0f} MB" for name, mb in projected.items())
                + f" ({'under' if max(projected.values()) < LIMIT_MB else 'OVER'} "
                  f"{LIMIT_MB} MB a process)")
        print(f"load average after {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
