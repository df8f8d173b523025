"""Triage of the DLMS model against its mode C twin, for every ESME fault of the catalogue.

The catalogue batch's ESME rows (one per fault, plus a no-fault device) are triaged twice:
as EMU-ESME-1 on benches/emulated-fast.toml (mode C, ``reference`` profile) and as
EMU-ESME-1D on benches/emulated-dlms.toml (its catalogue entry names the ``dlms`` profile:
mode E, HDLC, HLS-GMAC with the meter's keys, trust anchors through
the Security setup object, class 64). Same seeds, same faults; prints each fault's two
verdicts and the count that agree. Run: python benchmarks/dlms_twin_verdicts.py [--seed 11]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from harness.config.loader import default_bench_path
from harness.domain.types import DeviceType
from harness.emulator.world.catalogue import MODELS
from harness.emulator.world.identity import label_for
from harness.emulator.world.population import catalogue_batch
from harness.triage.intake import write_csv

BENCHES = default_bench_path().parent


def triage(rows: list, bench: str, folder: Path) -> dict[str, dict]:
    """Verdict line by item of one batch run on ``bench``."""
    manifest = folder / f"{bench}.csv"
    write_csv(rows, manifest)
    run = subprocess.run(
        [sys.executable, "-m", "harness", "triage", "--batch", str(manifest), "--json",
         "--bench", str(BENCHES / f"{bench}.toml"), "--operator", "bench", "--no-prompts"],
        capture_output=True, text=True, timeout=3000, cwd=folder, check=False)
    lines = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
    if len(lines) != len(rows):
        raise SystemExit(f"{bench}: {len(lines)} verdicts for {len(rows)} rows\n"
                         + run.stdout[-2000:] + run.stderr[-2000:])
    return {str(line["item"]).removeprefix("item"): line for line in lines}


def main() -> None:
    """Run both triages and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    mode_c = [r for r in catalogue_batch(seed=args.seed) if r.device_type is DeviceType.ESME]
    mode_c = [dataclasses.replace(r, model="EMU-ESME-1", item=n,
                                  label_id=label_for(MODELS["EMU-ESME-1"], r.seed)[0],
                                  device_id=label_for(MODELS["EMU-ESME-1"], r.seed)[1])
              for n, r in enumerate(mode_c, start=1)]
    dlms = [dataclasses.replace(r, model="EMU-ESME-1D",
                                label_id=label_for(MODELS["EMU-ESME-1D"], r.seed)[0],
                                device_id=label_for(MODELS["EMU-ESME-1D"], r.seed)[1])
            for r in mode_c]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        by_c = triage(mode_c, "emulated-fast", folder)
        by_d = triage(dlms, "emulated-dlms", folder)
    same = 0
    for row in mode_c:
        c, d = by_c[str(row.item)], by_d[str(row.item)]
        pair_c, pair_d = (c["verdict"], c["category"]), (d["verdict"], d["category"])
        same += pair_c == pair_d
        mark = "same" if pair_c == pair_d else "DIFFERENT"
        print(f"{row.truth_faults[0]:<32} mode C {pair_c}  DLMS {pair_d}  {mark}")
    print(f"{same}/{len(mode_c)} ESME catalogue faults: the DLMS model's verdict is its mode C "
          "twin's")


if __name__ == "__main__":
    main()
