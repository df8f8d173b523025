"""The report of 1,000 and 10,000 devices: how long ``meterbench report`` takes and its peak memory.

The issue's Scale line asks the report of a 10,000-device campaign to render in under 30 s,
with memory flat. The store is filled exactly as ``results_store_scale`` fills it (real device
results triaged on the fast emulated bench, replayed under fresh keys, one commit per device:
its ``run_child``), then the real command, ``python -m harness report --db URL --out DIR``
(HTML: index, one page per device with its current-draw chart, transcripts, CSVs), runs in a
child process per run; its wall time and its own peak RSS (``os.wait4``'s rusage) are taken,
median over the runs, with the report folder's size and file count.
Run: python benchmarks/report_scale.py [--sizes 1000 10000] [--runs 3] [--format html]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from results_store_scale import (
    MB,
    add_template_options,
    load_templates,
    run_child,
    triage_templates,
)

TARGET_S = 30.0  # the issue: the report of 10,000 devices renders in under 30 s


def report_once(db: Path, out: Path, fmt: str) -> tuple[float, int, str]:
    """Wall seconds and peak RSS (bytes) of one ``meterbench report`` child; its last line."""
    shutil.rmtree(out, ignore_errors=True)
    command = [sys.executable, "-m", "harness", "report", "--db", f"sqlite:///{db}",
               "--out", str(out), "--format", fmt, "--emulated", "include"]
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    stdout = child.stdout.read() if child.stdout else ""
    stderr = child.stderr.read() if child.stderr else ""
    if child.returncode != 0:
        raise SystemExit(f"report of {db} failed (exit {child.returncode}):\n{stderr}")
    peak = usage.ru_maxrss if sys.platform == "darwin" else usage.ru_maxrss * 1024
    return elapsed, peak, stdout.strip().splitlines()[-1] if stdout.strip() else ""


def folder_size(out: Path) -> tuple[int, int]:
    """Bytes and files under the report folder."""
    files = [p for p in out.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files), len(files)


def main() -> None:
    """Fill a store per size, render its report ``runs`` times; print the table."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000],
                        help="devices in the store")
    parser.add_argument("--runs", type=int, default=3, help="report runs per size (median)")
    parser.add_argument("--format", default="html", choices=("html", "csv", "json"),
                        help="the report's --format")
    add_template_options(parser)
    parser.add_argument("--keep", type=Path, default=None, metavar="DIR",
                        help="keep the stores and reports in DIR (default: a temporary folder)")
    args = parser.parse_args()
    if min(args.sizes) < 1 or args.runs < 1:
        parser.error("--sizes and --runs must be 1 or more")
    with tempfile.TemporaryDirectory(prefix="mb-report-scale-") as tmp_name:
        tmp = args.keep or Path(tmp_name)
        tmp.mkdir(parents=True, exist_ok=True)
        url = args.templates_db or triage_templates(tmp, args.template_devices, args.seed)
        templates = load_templates(url)
        kib = statistics.mean(len(t.row.transcript or "") for t in templates) / 1024
        print(f"templates: {len(templates)} real device results from {url.split('/')[-1]}, "
              f"{sum(t.row.current_trace is not None for t in templates)} with a current "
              f"trace, transcripts {kib:.0f} KiB "
              f"on average; {args.runs} report run(s) per size, --format {args.format}; "
              f"cores: {os.cpu_count()}, load average {os.getloadavg()[0]:.2f}")
        print(f"{'devices':>7} {'fill s':>7} {'report s':>9} {'min s':>7} {'max s':>7} "
              f"{'ms/device':>9} {'peak RSS MB':>11} {'out MB':>8} {'files':>7}  verdict")
        for size in args.sizes:
            db = tmp / f"store-{size}.db"
            fill = float("nan") if db.exists() else run_child(size, url, db, False)["total_s"]
            runs = [report_once(db, tmp / f"report-{size}", args.format)
                    for _ in range(args.runs)]
            seconds = [s for s, _, _ in runs]
            peak = max(p for _, p, _ in runs)
            median = statistics.median(seconds)
            size_bytes, files = folder_size(tmp / f"report-{size}")
            verdict = "under" if median < TARGET_S else "OVER"
            print(f"{size:>7} {fill:>7.1f} {median:>9.2f} {min(seconds):>7.2f} "
                  f"{max(seconds):>7.2f} {median / size * 1000:>9.2f} {peak / MB:>11.1f} "
                  f"{size_bytes / MB:>8.1f} {files:>7}  {verdict} {TARGET_S:g} s", flush=True)
            print(f"        {runs[-1][2]}", flush=True)
        print(f"load average after: {os.getloadavg()[0]:.2f}. report s: wall time of the whole "
              "`python -m harness report` process (interpreter start to exit), median; peak "
              "RSS: its ru_maxrss, the largest over the runs")


if __name__ == "__main__":
    main()
