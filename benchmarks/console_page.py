"""How long the operator console takes to serve a page of a 10,000-device campaign.

Builds a results store holding one campaign of ``--devices`` device results (default 10,000;
each with 25 measurements, findings, a 4 KB transcript and a current trace, written in bulk
through the store's own tables), signs in to the console in process (Starlette's TestClient:
no network, so the time is the server's), and times each page ``--runs`` times: the campaign
page (verdict counts, RFI figures so far, one page of devices) at its first, middle and last
page and filtered by verdict, a device search (and one that also reads the stored evidence,
as asked for), one device's page (the report's) and its current-draw chart (an image the page
loads lazily), the line and the audit trail.  Prints the median and the slowest per page.
Target (issue 18): a campaign page under 100 ms at the server (the median; the first view of
a campaign, which computes its RFI figures, is printed beside it).

Run: python benchmarks/console_page.py [--devices 10000] [--runs 20]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert

from harness.console.accounts import LockOut, add_account, load_accounts
from harness.console.app import Settings, create_app
from harness.results.store import (
    ResultStore,
    current_trace_table,
    device_result_table,
    measurement_table,
    utc_text,
)
from harness.triage.access import read_site_access
from harness.triage.audit import AuditLog
from harness.triage.audit_key import create_key_file
from harness.triage.site import Site

VERDICTS = ("NO_FAULT_FOUND", "FAULT", "INCONCLUSIVE", "NO_FAULT_FOUND", "FAULT")
TYPES = ("ESME", "GSME", "CHF")
PAGES = ("campaign, page 1", "campaign, middle page", "campaign, last page",
         "campaign, FAULT page 10", "device search (label)", "device search (MPxN)",
         "one device", "the line", "audit trail")
"""The pages an operator opens; the evidence search (asked for) and the chart (an image the
device page loads after it) are timed beside them."""
T0 = datetime.datetime(2026, 3, 2, 8, 0, tzinfo=datetime.UTC)


def build(db: str, devices: int) -> int:
    """One campaign of ``devices`` results, inserted in bulk; its id."""
    with ResultStore.open(db) as store:
        cid = store.start_campaign(bench="bench-A", operator="ann", role="supplier",
                                   batch_name=f"returns-{devices}.csv", started=T0)
        transcript = "\n".join(f"TX AT+N{i:04d}\nRX OK {i}" for i in range(200))  # ~4 KB
        samples = json.dumps([[i * 0.02, 0.02 + (0.6 if i == 0 else 0.0)] for i in range(40)])
        rows, measurements, traces = [], [], []
        for i in range(devices):
            verdict = VERDICTS[i % len(VERDICTS)]
            finished = T0 + datetime.timedelta(seconds=20 * i)
            evidence = {"findings": [{"clause": "TRI-HAN-01", "category": "HAN",
                                      "evidence": "no join"}] if verdict == "FAULT" else [],
                        "verdict": {"kind": verdict}, "mpxn": f"{1000000000000 + i}"}
            rows.append({"id": i + 1, "campaign_id": cid, "item_key": f"item{i}", "slot": "s1",
                         "device_id": f"{i:016X}", "device_type": TYPES[i % 3],
                         "model": f"M-{TYPES[i % 3]}", "label_id": f"SN{i:07d}",
                         "verdict": verdict, "category": "HAN" if verdict == "FAULT" else None,
                         "duis_return_reason": None, "reset": verdict == "NO_FAULT_FOUND",
                         "why": "every check passed" if verdict != "FAULT" else "no join",
                         "started": utc_text(finished - datetime.timedelta(seconds=18)),
                         "finished": utc_text(finished), "duration_s": 18.0,
                         "operator": "ann", "role": "supplier", "bench": "bench-A",
                         "transcript": transcript, "evidence": json.dumps(evidence),
                         "return_date": "2026-02-20", "generation": "SMETS2",
                         "bench_kind": "physical", "mpxn": f"{1000000000000 + i}"})
            measurements.extend({"device_result_id": i + 1, "clause": f"TRI-M-{m:02d}",
                                 "name": f"measurement_{m}", "value": str(0.01 * m),
                                 "numeric_value": 0.01 * m, "unit": "A", "low": 0.0,
                                 "high": 1.0, "expected": None, "passed": True}
                                for m in range(25))
            traces.append({"device_result_id": i + 1, "clause": "TRI-PWR-01",
                           "current_limit_a": 1.5, "sample_count": 40, "samples": samples})
        with store._engine.begin() as conn:
            conn.execute(insert(device_result_table), rows)
            conn.execute(insert(measurement_table), measurements)
            conn.execute(insert(current_trace_table), traces)
        store.finish_campaign(cid, T0 + datetime.timedelta(seconds=20 * devices))
        return cid


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    from starlette.testclient import TestClient

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        create_key_file(tmp / "audit.key")
        os.environ["MB_AUDIT_KEY"] = str(tmp / "audit.key")
        db = f"sqlite:///{tmp}/meterbench.db"
        AuditLog.open(db, create=True).close()
        started = time.perf_counter()
        cid = build(db, args.devices)
        print(f"built a campaign of {args.devices} devices in "
              f"{time.perf_counter() - started:.1f} s "
              f"({(tmp / 'meterbench.db').stat().st_size / 1e6:.0f} MB)")
        add_account(tmp / "accounts.yaml", "ann", "ann-secret-1")
        (tmp / "site.yaml").write_text("users:\n  ann: [supplier]\n")
        spec, parsed = read_site_access(tmp / "site.yaml")
        site = Site(source="site.yaml", spec=spec, users=dict(parsed.users))
        settings = Settings(db=db, audit_db=db, lockout=LockOut(),
                            accounts=load_accounts(tmp / "accounts.yaml", check_owner=False),
                            site=site)
        with TestClient(create_app(settings)) as client:
            token = re.search(r'name="csrf" value="([^"]+)"', client.get("/signin").text)
            assert token
            client.post("/signin", data={"csrf": token.group(1), "name": "ann",
                                         "password": "ann-secret-1"})
            last = -(-args.devices // 50)
            pages = {"campaign, page 1": f"/campaigns/{cid}",
                     "campaign, middle page": f"/campaigns/{cid}?page={last // 2}",
                     "campaign, last page": f"/campaigns/{cid}?page={last}",
                     "campaign, FAULT page 10": f"/campaigns/{cid}?verdict=FAULT&page=10",
                     "device search (label)": f"/devices?q=SN{args.devices // 2:07d}",
                     "device search (MPxN)": f"/devices?q={1000000000000 + args.devices // 3}",
                     "device search (+evidence)": f"/devices?q={1000000000000 + args.devices // 3}"
                                                  "&evidence=1",
                     "one device": f"/devices/{args.devices // 2}",
                     "its chart (PNG, own request)": f"/devices/{args.devices // 2}/current.png",
                     "the line": "/", "audit trail": "/audit"}
            print(f"{'page':28} {'first ms':>9} {'median ms':>10} {'max ms':>8}  "
                  f"(runs: {args.runs}; the first view of a campaign computes its RFI figures, "
                  "later views reuse them until its results change)")
            worst_campaign = worst_page = 0.0
            for name, url in pages.items():
                times = []
                for _ in range(args.runs):
                    t = time.perf_counter()
                    reply = client.get(url)
                    times.append((time.perf_counter() - t) * 1000)
                    if reply.status_code != 200:
                        sys.exit(f"{url}: HTTP {reply.status_code}")
                median = statistics.median(times)
                if name.startswith("campaign"):
                    worst_campaign = max(worst_campaign, median)
                if name in PAGES:
                    worst_page = max(worst_page, median)
                print(f"{name:28} {times[0]:9.1f} {median:10.1f} {max(times):8.1f}")
            verdict = "meets" if worst_campaign < 100 else "MISSES"
            print(f"slowest campaign page median {worst_campaign:.1f} ms: {verdict} the "
                  "100 ms target")
            verdict = "meets" if worst_page < 100 else "MISSES"
            print(f"slowest page median {worst_page:.1f} ms (every page but the opt-in "
                  f"evidence search and the chart image): {verdict} the 100 ms target")


if __name__ == "__main__":
    main()
