"""Triage of each DLMS model against its mode C twin, for every catalogue fault of its type.

The catalogue batch's rows of a device type (one per fault, plus a no-fault device) are
triaged twice: as the mode C model (EMU-ESME-1, EMU-GSME-1) on benches/emulated-fast.toml
(``reference`` profile) and as its DLMS twin (EMU-ESME-1D, EMU-GSME-1D) on
benches/emulated-dlms.toml (the catalogue entry names the ``dlms`` profile: mode E, HDLC,
HLS-GMAC with the meter's keys, trust anchors through the Security setup object, class 64;
the gas meter woken first, as its probe's options say). Same seeds, same faults; prints each
fault's two verdicts and the count that agree.
Run: python benchmarks/dlms_twin_verdicts.py [--type ESME|GSME|all] [--seed 11]
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
from harness.triage.intake import BatchRow, write_csv

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


TWINS = {DeviceType.ESME: ("EMU-ESME-1", "EMU-ESME-1D"),
         DeviceType.GSME: ("EMU-GSME-1", "EMU-GSME-1D")}
"""Mode C model and its DLMS twin, by device type."""


def _as_model(row: BatchRow, model: str, item: int | None = None) -> BatchRow:
    """``row`` as a device of ``model`` (its label drawn from the same seed), renumbered
    ``item`` if given."""
    if row.seed is None:
        raise SystemExit(f"item {row.item}: a catalogue row without a seed")
    label, eui64 = label_for(MODELS[model], row.seed)
    return dataclasses.replace(row, model=model, label_id=label, device_id=eui64,
                               item=row.item if item is None else item)


def compare(kind: DeviceType, seed: int) -> tuple[int, int]:
    """Triage ``kind``'s catalogue rows as both twins; print each fault's verdicts. Returns
    (agreeing, total)."""
    model_c, model_d = TWINS[kind]
    mode_c = [r for r in catalogue_batch(seed=seed) if r.device_type is kind]
    mode_c = [_as_model(r, model_c, item=n) for n, r in enumerate(mode_c, start=1)]
    dlms = [_as_model(r, model_d) for r in mode_c]
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
    print(f"{same}/{len(mode_c)} {kind.name} catalogue faults: {model_d}'s verdict is "
          f"{model_c}'s")
    return same, len(mode_c)


def main() -> None:
    """Run both triages of each asked type and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--type", choices=["ESME", "GSME", "all"], default="all")
    args = parser.parse_args()
    kinds = list(TWINS) if args.type == "all" else [DeviceType[args.type]]
    totals = [compare(kind, args.seed) for kind in kinds]
    if len(totals) > 1:
        print(f"{sum(s for s, _ in totals)}/{sum(n for _, n in totals)} catalogue faults over "
              "both DLMS models agree with their mode C twins")


if __name__ == "__main__":
    main()
