"""Facility mode on this machine: devices per minute against the number of host processes, and
what claiming a device from the shared queue costs.

Each "host" is a ``meterbench triage --campaign`` process with an emulated fast bench of its
own (its own name and lock folder), all joined to one campaign on one PostgreSQL server
(a throw-away server started here unless --db names one: each run then gets a fresh
database on it). The wall time runs from the start of the first host to the end of the last;
every run is checked to hold each device of the batch exactly once, so a crashed or short run
cannot pass for a fast one. The hosts share this machine's cores (printed), so more hosts
than cores cannot go faster here; on a facility each host has its own.

The claim overhead is measured on the same server: claim a device (row lock with SKIP
LOCKED, lease) and release it as done, per device, by one host process, then by 4 host
processes going through the same queue in step (every device contested: the worst case; on
this machine also 4 processes on its few cores); median and 95th percentile, median over
runs (target: under 5 ms).
Run: python benchmarks/facility_rate.py [--devices 24] [--hosts 1 2 4] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "results"))

from _postgres import PostgresServer  # noqa: E402

from harness.emulator.world.population import PopulationSpec, generate  # noqa: E402
from harness.results.facility import Facility  # noqa: E402
from harness.results.store import ResultStore  # noqa: E402
from harness.triage.intake import write_csv  # noqa: E402

FAST = REPO / "benches" / "emulated-fast.toml"
FAILED_RUN_CODES = (2, 3, 4, 5)  # interrupted, unavailable, internal error, usage, nothing run
MB = [sys.executable, "-c", "from harness.cli import main; main()"]


class Databases:
    """Fresh databases: on a server started here, or on the one --db names."""

    def __init__(self, url: str | None) -> None:
        self.server = None if url else PostgresServer.start()
        self.url = url
        self.n = 0

    def fresh(self) -> str:
        """A new, empty database's URL."""
        self.n += 1
        name = f"mb_facility_{os.getpid()}_{self.n}"
        if self.server is not None:
            return self.server.create_database(name)
        import psycopg

        assert self.url is not None
        base = self.url.replace("postgresql+psycopg://", "postgresql://").replace(
            "postgres://", "postgresql://")
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return base.rsplit("/", 1)[0] + f"/{name}"

    def close(self) -> None:
        """Stop the server started here."""
        if self.server is not None:
            self.server.stop()


def bench_file(folder: Path, name: str) -> Path:
    """The emulated fast bench under the host's own name."""
    path = folder / f"{name}.toml"
    path.write_text(FAST.read_text().replace('name = "emulated-fast"', f'name = "{name}"', 1))
    return path


def campaign_once(url: str, batch: Path, hosts: int, devices: int, folder: Path) -> float:
    """Wall seconds for ``hosts`` host processes to triage the batch; exits when a host
    failed or a device is missing or recorded twice."""
    folder.mkdir()
    start = time.perf_counter()
    procs = [subprocess.Popen(
        [*MB, "triage", "--bench", str(bench_file(folder, f"host{i}")), "--batch", str(batch),
         "--db", url, "--campaign", "bench", "--no-prompts", "--plain"],
        cwd=folder, env={**os.environ, "MB_LOCK_DIR": str(folder / f"locks{i}")},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for i in range(hosts)]
    errors = [p.communicate()[1] for p in procs]
    elapsed = time.perf_counter() - start
    with ResultStore.open(url, create=False) as store:
        keys = Counter(r.item_key for r in store.results(with_measurements=False,
                                                         with_traces=False))
    bad = [p.returncode for p in procs if p.returncode in FAILED_RUN_CODES]
    if bad or len(keys) != devices or set(keys.values()) != {1}:
        tail = "\n".join(e.strip().splitlines()[-1] for e in errors if e.strip())
        raise SystemExit(f"{hosts} host(s): exits {[p.returncode for p in procs]}, "
                         f"{len(keys)} of {devices} devices, counts {set(keys.values())}\n{tail}")
    return elapsed


def _claim_all(url: str, devices: int, index: int, start_at: float) -> list[float]:
    """One claiming host (its own process and connection): ms per device it claimed."""
    with ResultStore.open(url) as store:
        host = Facility(store, bench=f"b{index}", host=f"h{index}", pid=index)
        keys = [f"item{i}" for i in range(devices)]
        host.join("overhead", batch_name="x.csv", keys=keys, operator="bench", role="supplier")
        time.sleep(max(0.0, start_at - time.time()))
        costs = []
        for key in keys:
            t0 = time.perf_counter()
            if host.claim(key).outcome.value == "claimed":
                host.release(key, done=True)
                costs.append((time.perf_counter() - t0) * 1000)
        return costs


def claim_cost(url: str, devices: int, claimers: int) -> list[float]:
    """Milliseconds per device to claim it and release it as done, ``claimers`` host
    processes at once going through the same queue."""
    import multiprocessing

    with ResultStore.open(url):
        pass  # the schema is made once, before the claimers start
    start_at = time.time() + 3.0
    with multiprocessing.get_context("spawn").Pool(claimers) as pool:
        parts = pool.starmap(_claim_all, [(url, devices, i, start_at)
                                          for i in range(claimers)])
    costs = [c for part in parts for c in part]
    assert len(costs) == devices, (len(costs), devices)  # each device claimed once
    return costs


def main() -> None:
    """Print devices/min per host count and the claim overhead."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=24, help="batch size")
    parser.add_argument("--seed", type=int, default=7, help="population seed (fixed batch)")
    parser.add_argument("--hosts", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--runs", type=int, default=3, help="runs per host count (median)")
    parser.add_argument("--claims", type=int, default=400, help="devices per overhead run")
    parser.add_argument("--db", default=None, help="a PostgreSQL server URL to use instead "
                                                   "of starting one")
    args = parser.parse_args()
    if args.devices < 1 or args.runs < 1 or min(args.hosts) < 1:
        parser.error("--devices, --runs and --hosts must be 1 or more")
    dbs = Databases(args.db)
    try:
        with tempfile.TemporaryDirectory(prefix="mb-facility-rate-") as tmp_name:
            tmp = Path(tmp_name)
            rows = generate(PopulationSpec(args.devices, seed=args.seed))
            batch = tmp / f"batch-seed{args.seed}-{args.devices}.csv"
            write_csv(rows, batch)
            print(f"batch: {args.devices} devices (seed {args.seed}); emulated fast benches; "
                  f"{args.runs} run(s) each; {os.cpu_count()} CPU core(s)")
            print(f"{'hosts':>5} {'median s':>9} {'min s':>7} {'dev/min':>8} {'speed-up':>8}")
            base = None
            for hosts in args.hosts:
                times = [campaign_once(dbs.fresh(), batch, hosts, args.devices,
                                       tmp / f"h{hosts}-r{run}") for run in range(args.runs)]
                median = statistics.median(times)
                base = base or median
                print(f"{hosts:>5} {median:>9.1f} {min(times):>7.1f} "
                      f"{args.devices / median * 60:>8.1f} {base / median:>7.2f}x", flush=True)
            print(f"claim overhead per device (claim + release as done, {args.claims} devices, "
                  f"median of {args.runs} runs; target < 5 ms):")
            for claimers in (1, 4):
                medians, p95s = [], []
                for _ in range(args.runs):
                    costs = sorted(claim_cost(dbs.fresh(), args.claims, claimers))
                    medians.append(statistics.median(costs))
                    p95s.append(costs[int(len(costs) * 0.95) - 1])
                print(f"  {claimers} host(s) claiming at once: median "
                      f"{statistics.median(medians):.2f} ms, p95 {statistics.median(p95s):.2f} ms",
                      flush=True)
    finally:
        dbs.close()


if __name__ == "__main__":
    main()
