"""Devices triaged per minute on the emulated bench in fast mode, with 1 and 2 workers.

What a facility plans capacity with: the wall time of a whole ``meterbench triage`` process
(interpreter start, bench start, every triage suite on every device, the results store, the
summary) over one fixed batch (same size, same seed, so every run triages the same devices
with the same faults), as devices per minute and seconds per device, median over runs. Each
run writes a fresh results database and is checked to hold every device of the batch, so a
crashed or short run cannot pass for a fast one. Workers are pytest-xdist processes, one
emulated bench each; the speed-up is bounded by the machine's cores (printed). The optical
probes are in process by default (the fast bench: ``inprocess``); ``socket`` puts them on
plain sockets (two thread wake-ups an exchange) and ``rfc2217`` is the shipped bench (whose
client polls 50 ms per baud change). Each run's CPU seconds (user + system of the triage and
every process under it: workers and their in-process emulators) per device are printed too,
with the rate that CPU alone allows on this machine's cores ("CPU cap").

The default time scale is x200, the highest the CLI takes (``MAX_TIME_SCALE``), at which
seeded batches give real time's verdicts, clock faults at the catalogue's lowest drift
included (``scale_parity.py``, seeds 7 and 11); a 96-device batch gave x100's verdicts at
x200 and x300 and two INCONCLUSIVE (bench reasons) at x500. Beyond x200 nothing was gained:
TRI-DIAG-01's window needs about 1500-2000 read widths of wall time to know a rate to 1000 ppm
whatever the scale (a width is the host's exchange with the emulated meter at the port:
``clock_read_width.py``; 44 us in process against 160 us over a socket).

Two workers went past 300 devices a minute (23:44, x200, 96 mixed devices, medians of 3):
203 (1 worker) and 314 (2 workers), 335 with 480 devices (one run); CPU 0.14-0.19 s a
device. Until then two workers gave about 230, because a loaded host made every dropped frame
of a flaky optical port wait the wall floor (1 s) rather than the meter's 15 ms: a
96-device run spent 17 s on it. An in-process port's silences are now the meter's
(``peer_in_thread``, harness/drivers/silence.py). What still bounds a device is TRI-DIAG-01's
window, about 0.16 s of its 0.3 s on a worker; start-up (2.9 s before the first device, 0.8 s
after the last) is a sixth of a 96-device run. Earlier on 2026-12-05, 96 mixed devices, x100
unless said, medians of 3: in process 162 (1 worker) and 226-233 (2 workers; 20:45-21:00);
over sockets 191; at 21:10, 2 workers: 209 (x100), 237 (x200), 230 (x300); 480 devices, 2
workers, one run: 277 (x100, 20:48), 236 (x100) and 256 (x200) at 21:18. At 19:55 over
sockets, before the in-process port: 186 (96 devices, 2 workers); the start of that day
(24 devices): 61 and 104 a minute healthy, 40 and 69 mixed.
Run: python benchmarks/campaign_rate.py [--devices 24] [--runs 3] [--time-scale 200]
[--workers 1 2] [--healthy] [--transports inprocess socket rfc2217]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from _fast_bench import bench_files, shown

from harness.emulator.world.population import PopulationSpec, generate
from harness.results.store import ResultStore
from harness.triage.intake import write_csv

FAILED_RUN_CODES = (2, 3, 4, 5)  # interrupted, internal error, usage error, nothing collected
CORES = os.cpu_count() or 1


def triage_once(bench: Path, batch: Path, workers: int, time_scale: float, db: Path,
                devices: int) -> float:
    """Wall seconds of one ``meterbench triage`` subprocess; exits if it did not finish."""
    return triage_timed(bench, batch, workers, time_scale, db, devices)[0]


def triage_timed(bench: Path, batch: Path, workers: int, time_scale: float, db: Path,
                 devices: int) -> tuple[float, float]:
    """Wall and CPU seconds (user + system, of the process and every process it started:
    workers, emulators) of one ``meterbench triage``; exits if it did not finish."""
    command = [sys.executable, "-m", "harness", "triage", "--bench", str(bench),
               "--batch", str(batch), "--workers", str(workers),
               "--time-scale", f"{time_scale:g}", "--db", f"sqlite:///{db}"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True, check=False)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    # Exit code 1 only says some device was faulty (its tests failed): expected in a batch.
    recorded = _recorded(db)
    if done.returncode in FAILED_RUN_CODES or recorded != devices:
        tail = "\n".join(done.stderr.strip().splitlines()[-15:])
        raise SystemExit(f"{shown(bench)} with {workers} worker(s): exit {done.returncode}, "
                         f"{recorded} of {devices} devices recorded in {db}\n{tail}")
    return elapsed, cpu


def _recorded(db: Path) -> int:
    """How many device results the run's database holds (0 when it made none)."""
    if not db.exists():
        return 0
    with ResultStore.open(f"sqlite:///{db}", create=False) as store:
        return store.count()


def main() -> None:
    """Triage the batch ``runs`` times per bench file and worker count; print the medians."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=24, help="batch size")
    parser.add_argument("--seed", type=int, default=7, help="population seed (fixed batch)")
    parser.add_argument("--runs", type=int, default=3, help="runs per set-up (median)")
    parser.add_argument("--time-scale", type=float, nargs="+", default=[200.0],
                        help="fast mode: emulated time N times faster (1..200); several "
                             "values are measured one after the other")
    parser.add_argument("--healthy", action="store_true",
                        help="a batch of healthy devices only (no_fault_ratio 1: no dead "
                             "port or silent radio, so no timeouts), not the mixed batch")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2],
                        help="worker counts to compare (pytest-xdist, one bench each)")
    parser.add_argument("--transports", nargs="+", default=["inprocess", "rfc2217"],
                        help="optical probe transports to compare (inprocess, socket, "
                             "rfc2217)")
    args = parser.parse_args()
    if args.devices < 1 or args.runs < 1 or min(args.workers) < 1:
        parser.error("--devices, --runs and --workers must be 1 or more")
    with tempfile.TemporaryDirectory(prefix="mb-campaign-rate-") as tmp_name:
        tmp = Path(tmp_name)
        rows = generate(PopulationSpec(args.devices, seed=args.seed,
                                       no_fault_ratio=1.0 if args.healthy else 0.6))
        batch = tmp / f"batch-seed{args.seed}-{args.devices}.csv"
        write_csv(rows, batch)
        mix = Counter(r.device_type.name for r in rows)
        faulty = sum(r.truth_verdict != "NO_FAULT_FOUND" for r in rows)
        print(f"batch: {args.devices} devices (seed {args.seed}): "
              f"{', '.join(f'{n} {k}' for k, n in sorted(mix.items()))}; {faulty} faulty; "
              f"{'healthy batch' if args.healthy else 'mixed batch'}; {args.runs} run(s) "
              f"each; {os.cpu_count()} CPU core(s), load average {os.getloadavg()[0]:.2f}")
        print(f"{'bench file':<28} {'optical':<8} {'scale':>6} {'workers':>7} {'median s':>9} "
              f"{'min s':>7} {'dev/min':>8} {'s/device':>9} {'speed-up':>8} {'CPU s/dev':>9} "
              f"{'CPU cap':>8}")
        for transport, bench in bench_files(tmp, args.transports):
            for scale in args.time_scale:
                base = None
                for workers in args.workers:
                    runs = [triage_timed(bench, batch, workers, scale,
                                         tmp / f"{transport}-{scale:g}-{workers}-{run}.db",
                                         args.devices)
                            for run in range(args.runs)]
                    times = [wall for wall, _ in runs]
                    median = statistics.median(times)
                    cpu = statistics.median(c for _, c in runs) / args.devices
                    base = base or median
                    print(f"{shown(bench):<28} {transport:<8} {scale:>6g} {workers:>7} "
                          f"{median:>9.1f} {min(times):>7.1f} "
                          f"{args.devices / median * 60:>8.1f} {median / args.devices:>9.2f} "
                          f"{base / median:>7.2f}x {cpu:>8.3f} "
                          f"{CORES * 60 / cpu:>8.0f}", flush=True)
        print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
