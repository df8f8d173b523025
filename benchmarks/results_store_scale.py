"""Results store at 1,000 and 10,000 devices: database size, memory and time per record.

A facility keeps every device it ever triaged, so the SQLite file must grow linearly with
devices (the same bytes per device at 10,000 as at 1,000) and the campaign process must not
grow with them (its resident memory flat once warm). Device results are realistic because
they are copies of real ones: a small batch is first triaged on the fast emulated bench (or
``--templates-db`` names an existing results database), and its records (measurements with
limits, findings, notes, current-draw trace) are replayed round-robin under fresh item keys,
device ids and labels, with the instrument transcript the triage stored beside it. Each is
written through ``ResultStore.record`` into one campaign and
committed on its own, exactly as ``meterbench triage --db`` does. Every size runs in a fresh
child process, so peak RSS (``resource``) belongs to that size alone; a separate traced child
per size gives tracemalloc's view (tracing slows recording, so it is not timed).
Run: python benchmarks/results_store_scale.py [--sizes 1000 10000] [--runs 1]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _fast_bench import fast_bench_file

from harness.devices.records import DeviceIdentity
from harness.domain.types import DeviceType
from harness.results.store import DeviceRow, ResultStore
from harness.triage.classify import Verdict, VerdictKind
from harness.triage.record import Finding, Measurement, TriageRecord

CHECKPOINTS = 10  # resident memory is sampled after every tenth of the records
MB = 1024 * 1024


@dataclass(frozen=True)
class Template:
    """One real device result, ready to be replayed under another identity."""

    row: DeviceRow

    def replay(self, index: int) -> tuple[TriageRecord, Verdict]:
        """The record and verdict of synthetic device ``index`` (unique key, id and label)."""
        row, e = self.row, self.row.evidence
        device_id = f"00DB{index:012X}"  # EUI-64: 16 upper-case hex digits, one per device
        label = f"{(row.label_id or 'SYN')[:3]}{index:08d}"
        identity = None
        if e.get("device_id"):
            firmware = next((str(m["value"]) for m in e["measurements"]
                             if m["name"] == "firmware_version"), "")
            # Only device_id and model reach the store; the rest is kept plausible.
            identity = DeviceIdentity(DeviceType[row.device_type], device_id, label, "",
                                      row.model or "", firmware)
        record = TriageRecord(
            key=f"item{index}", slot=row.slot or "", device_type=row.device_type,
            label_id=label, label_device_id=device_id, operator=row.operator, role=row.role,
            identity=identity,
            measurements=[Measurement(
                m["name"], m["value"], m["unit"], m["low"], m["high"], m["clause"],
                m["expected"], None if m["allowed"] is None else tuple(m["allowed"]))
                for m in e["measurements"]],
            findings=[Finding(**f) for f in e["findings"]],
            bench_errors=list(e["bench_errors"]), refused=list(e["refused"]),
            not_assessed=list(e["not_assessed"]), reset_steps=list(e["reset"]),
            verified=list(e["verified"]), verify_failures=list(e["verify_failures"]),
            notes=dict(e["notes"]), current_trace=row.current_trace,
            started=datetime.datetime.now(datetime.UTC)
            - datetime.timedelta(seconds=row.duration_s))
        v = e["verdict"]
        verdict = Verdict(VerdictKind(v["verdict"]), v["category"], v["duis_return_reason"],
                          v["why"], bool(v["reset"]))
        return record, verdict

    def stored_with(self) -> dict[str, Any]:
        """What a triage stores beside the record (``ResultStore.record``'s keywords): the
        instrument transcript (about 100 KiB a device), bench kind, generation, return date."""
        row = self.row
        return {"transcript": row.transcript, "bench_kind": row.bench_kind,
                "generation": row.generation, "return_date": row.return_date,
                "mpxn": row.mpxn}


def load_templates(url: str) -> list[Template]:
    """Every device result in the results database at ``url``."""
    with ResultStore.open(url, create=False) as store:
        rows = store.results()
    if not rows:
        raise SystemExit(f"{url}: no device results to use as templates")
    return [Template(r) for r in rows]


def triage_templates(tmp: Path, devices: int, seed: int) -> str:
    """Triage a small generated batch on the fast emulated bench; its results database URL."""
    url = f"sqlite:///{tmp / 'templates.db'}"
    command = [sys.executable, "-m", "harness", "triage", "--bench", str(fast_bench_file(tmp)),
               "--devices", str(devices), "--seed", str(seed), "--db", url]
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True, check=False)
    if done.returncode not in (0, 1):  # 1: some device was faulty, as a batch has
        raise SystemExit(f"template triage failed (exit {done.returncode}):\n{done.stderr}")
    return url


def rss_bytes() -> int:
    """Resident memory now (Linux /proc); the peak so far where /proc is missing."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return peak_rss_bytes()


def peak_rss_bytes() -> int:
    """Peak resident memory of this process (ru_maxrss: KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def db_bytes(path: Path) -> int:
    """The database's size on disk, WAL and shared-memory files included."""
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm"))
               if p.exists())


def record_many(size: int, templates_url: str, db: Path, traced: bool) -> dict[str, Any]:
    """Child process: record ``size`` devices into a new database; figures as a dict.

    Resident memory (and, traced, the Python heap) is sampled after every tenth of the
    records; a traced run keeps no per-record timings, so the heap holds only what recording
    itself keeps.
    """
    templates = load_templates(templates_url)
    store = ResultStore.open(f"sqlite:///{db}", create=True)
    campaign = store.resume_or_start(bench="emulated-fast", operator="benchmark",
                                     role="supplier", batch_name=f"synthetic-{size}.csv")
    if traced:
        tracemalloc.start()
    rss_start = rss_bytes()
    every = max(1, size // CHECKPOINTS)
    samples: list[tuple[int, int, int]] = []  # (records, RSS, traced heap)
    per_record: list[float] = []
    start = time.perf_counter()
    for i in range(size):
        template = templates[i % len(templates)]
        record, verdict = template.replay(i + 1)
        t0 = time.perf_counter()
        if not store.record(campaign, record, verdict, **template.stored_with()):
            raise SystemExit(f"{db}: item{i + 1} was already recorded")
        if not traced:
            per_record.append(time.perf_counter() - t0)
        if (i + 1) % every == 0 or i + 1 == size:
            heap = tracemalloc.get_traced_memory()[0] if traced else 0
            samples.append((i + 1, rss_bytes(), heap))
    total = time.perf_counter() - start
    # Before the check below, which reads every row back (ru_maxrss lags /proc a little).
    peak_rss = max(peak_rss_bytes(), *(rss for _, rss, _ in samples))
    heap_peak = tracemalloc.get_traced_memory()[1] if traced else 0
    tracemalloc.stop()
    store.finish_campaign(campaign)
    recorded = store.count(campaign)
    store.close()
    if recorded != size:
        raise SystemExit(f"{db}: {recorded} devices recorded, expected {size}")
    figures: dict[str, Any] = {
        "size": size, "total_s": total, "db_bytes": db_bytes(db), "rss_start": rss_start,
        "rss_tenth": samples[0][1], "rss_end": samples[-1][1], "peak_rss": peak_rss,
        "heap_tenth": samples[0][2], "heap_end": samples[-1][2], "heap_peak": heap_peak}
    if per_record:
        tenth = max(1, size // 10)
        figures |= {"ms_median": statistics.median(per_record) * 1000,
                    "ms_first_tenth": statistics.median(per_record[:tenth]) * 1000,
                    "ms_last_tenth": statistics.median(per_record[-tenth:]) * 1000}
    return figures


def run_child(size: int, templates_url: str, db: Path, traced: bool) -> dict[str, Any]:
    """Run :func:`record_many` in a fresh interpreter (its own peak RSS); its figures."""
    command = [sys.executable, __file__, "--child", str(size), "--templates-db", templates_url,
               "--db", str(db), *(["--traced"] if traced else [])]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"recording {size} devices failed (exit {done.returncode}):\n"
                         f"{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def add_template_options(parser: argparse.ArgumentParser) -> None:
    """The options choosing the real device records a scale benchmark replays."""
    parser.add_argument("--templates-db", default=None, metavar="URL",
                        help="results database whose devices are the templates (default: "
                             "triage a small batch on the fast emulated bench first)")
    parser.add_argument("--template-devices", type=int, default=12,
                        help="size of the batch triaged for templates")
    parser.add_argument("--seed", type=int, default=7, help="seed of that batch")


def main() -> None:
    """Record each size ``runs`` times (timed) and once traced; print the table."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000],
                        help="devices recorded per database")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per size (median)")
    add_template_options(parser)
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--traced", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(record_many(args.child, args.templates_db, args.db, args.traced)))
        return
    if min(args.sizes) < 1 or args.runs < 1:
        parser.error("--sizes and --runs must be 1 or more")
    with tempfile.TemporaryDirectory(prefix="mb-store-scale-") as tmp_name:
        tmp = Path(tmp_name)
        url = args.templates_db or triage_templates(tmp, args.template_devices, args.seed)
        templates = load_templates(url)
        measurements = statistics.mean(len(t.row.measurements) for t in templates)
        traced = [t for t in templates if t.row.current_trace is not None]
        samples = statistics.mean(len(t.row.current_trace.samples) for t in traced) \
            if traced else 0
        print(f"templates: {len(templates)} real device results from {url.split('/')[-1]}: "
              f"{measurements:.1f} measurements each on average, "
              f"{sum(bool(t.row.evidence['findings']) for t in templates)} with findings, "
              f"{len(traced)} with a current trace ({samples:.0f} samples); "
              f"{args.runs} timed run(s) per size, SQLite (WAL), one commit per device")
        print(f"{'devices':>7} {'DB MB':>7} {'B/device':>9} {'ms/rec':>7} {'first10%':>8} "
              f"{'last10%':>8} {'RSS start':>9} {'RSS 10%':>8} {'RSS end':>8} {'peak RSS':>8} "
              f"{'heap 10%':>8} {'heap end':>8} {'heap peak':>9}")
        sizes: dict[int, float] = {}
        for size in args.sizes:
            timed = [run_child(size, url, tmp / f"store-{size}-{run}.db", False)
                     for run in range(args.runs)]
            heap = run_child(size, url, tmp / f"store-{size}-traced.db", True)
            m = {key: statistics.median(r[key] for r in timed) for key in timed[0]}
            sizes[size] = m["db_bytes"]
            print(f"{size:>7} {m['db_bytes'] / MB:>7.2f} {m['db_bytes'] / size:>9.0f} "
                  f"{m['ms_median']:>7.2f} {m['ms_first_tenth']:>8.2f} "
                  f"{m['ms_last_tenth']:>8.2f} {m['rss_start'] / MB:>9.1f} "
                  f"{m['rss_tenth'] / MB:>8.1f} {m['rss_end'] / MB:>8.1f} "
                  f"{m['peak_rss'] / MB:>8.1f} {heap['heap_tenth'] / MB:>8.2f} "
                  f"{heap['heap_end'] / MB:>8.2f} {heap['heap_peak'] / MB:>9.2f}", flush=True)
        small, large = min(sizes), max(sizes)
        if large != small:
            print(f"linearity: {large / small:g}x the devices, {sizes[large] / sizes[small]:.2f}x "
                  f"the database ({sizes[large] / large:.0f} vs {sizes[small] / small:.0f} "
                  f"bytes/device)")
        print("MB = MiB. ms/rec: one ResultStore.record (a commit), median over all, the "
              "first and the last tenth. RSS start: store open, no record yet; RSS 10%/end: "
              "after a tenth/all of the records. heap: Python allocations since the first "
              "record (tracemalloc, a separate untimed run)")


if __name__ == "__main__":
    main()
