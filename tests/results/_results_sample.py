"""Hand-made triage records and verdicts for the results tests (also run as a writer script).

As a script (``python _results_sample.py URL N BENCH BATCH``) it records items ``item0`` ..
``item{N-1}`` one by one, skipping those already done, printing each key once committed: the
kill -9 test kills it midway and runs it again.
"""

from __future__ import annotations

import datetime
import sys
import time

from harness.devices.records import DeviceIdentity
from harness.domain.types import DeviceType
from harness.triage.classify import Verdict, VerdictKind
from harness.triage.record import Measurement, TriageRecord

T0 = datetime.datetime(2024, 3, 1, 9, 0, tzinfo=datetime.UTC)
TYPES = ("CHF", "ESME", "GSME")


def sample(i: int, *, device_type: str | None = None,
           started: datetime.datetime = T0) -> tuple[TriageRecord, Verdict]:
    """Device ``i``: a record with two measurements and a verdict that cycles through kinds."""
    kind = device_type or TYPES[i % 3]
    identity = DeviceIdentity(DeviceType[kind], f"{i:016X}", f"SN{i}", "ACME", f"M-{kind}",
                              "1.0")
    record = TriageRecord(key=f"item{i}", slot="s1", device_type=kind, label_id=f"L{i}",
                          operator="ann", role="Supplier", identity=identity, started=started)
    record.measure(Measurement("supply current", 0.05 + i / 1000, "A", 0.0, 0.2, "TRI-PWR-01"))
    record.measure(Measurement("firmware", "1.0", clause="TRI-FW-01", expected="1.0"))
    if i % 3 == 1:
        verdict = Verdict(VerdictKind.FAULT, "HAN", "fault with SM HAN interface", "no join")
        record.find("TRI-HAN-01", "HAN", "no join")
    elif i % 3 == 2:
        verdict = Verdict(VerdictKind.INCONCLUSIVE, why="bench fault")
    else:
        verdict = Verdict(VerdictKind.NO_FAULT_FOUND, why="reset verified", reset=True)
    return record, verdict


def main(url: str, n: int, bench: str, batch: str) -> None:
    """Record every item not yet done in the campaign of ``batch`` on ``bench``."""
    from harness.results.store import ResultStore

    with ResultStore.open(url, create=True) as store:
        campaign = store.resume_or_start(bench=bench, operator="ann", role="Supplier",
                                         batch_name=batch)
        done = store.done_items(campaign)
        for i in range(n):
            record, verdict = sample(i)
            if record.key in done:
                continue
            store.record(campaign, record, verdict, T0 + datetime.timedelta(seconds=30 + i))
            print(record.key, flush=True)
            time.sleep(0.005)
        store.finish_campaign(campaign)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4])
