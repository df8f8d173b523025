"""Short emulated runs of the triage suites for the section-2 rule tests: a small batch
written as a lab's manifest with truth columns, the suites run on the fast emulated bench in
a subprocess, and each device's verdict line (measurements and findings) read back."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

from harness.config.loader import default_bench_path
from harness.domain.types import DeviceType
from harness.domain.vocabulary import NO_FAULT, FaultCategory
from harness.emulator.world.catalogue import MODELS
from harness.emulator.world.faults import CATALOGUE
from harness.emulator.world.identity import label_for
from harness.triage.intake import BatchRow, ReturnType, Verdict, write_csv

ROOT = Path(__file__).resolve().parents[2]
FAST_BENCH = default_bench_path().parent / "emulated-fast.toml"


def batch(path: Path, *devices: tuple[str, tuple[str, ...], FaultCategory],
          seed: int = 5, return_type: ReturnType = ReturnType.POST_INSTALLATION) -> Path:
    """A manifest of ``(model, faults, truth category)`` devices, returned after install
    (or as ``return_type`` says)."""
    rng = random.Random(seed)
    rows = []
    for item, (model, faults, category) in enumerate(devices, start=1):
        device_seed = rng.getrandbits(32)
        serial, eui64 = label_for(MODELS[model], device_seed)
        for f in faults:
            assert f.split(":")[0] in CATALOGUE, f
        rows.append(BatchRow(
            item=item, device_type=MODELS[model].device_type, model=model, label_id=serial,
            device_id=eui64, return_reason="rule test", return_type=return_type,
            seed=device_seed, truth_faults=faults or (NO_FAULT,),
            truth_verdict=Verdict.FAULT if faults else Verdict.NO_FAULT_FOUND,
            truth_category=category))
    write_csv(rows, path)
    return path


def run_suites(folder: Path, manifest: Path, *args: str, timeout: float = 300,
               env: dict[str, str] | None = None, bench: Path = FAST_BENCH
               ) -> tuple[dict[str, dict], subprocess.CompletedProcess[str]]:
    """Run ``pytest <args> --mb-batch manifest`` on ``bench`` (the fast emulated bench by
    default); the verdict lines by item, and the process (for its output)."""
    out = folder / "verdicts.jsonl"
    env = {**os.environ, **(env or {}), "MB_LOCK_DIR": str(folder / "locks"),
           "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), str(ROOT / "benchmarks"),
                                          os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", *args, "--mb-batch", str(manifest),
         "--mb-bench", str(bench), "--mb-triage-json", str(out), "-q",
         "-p", "no:cacheprovider", "--rootdir", str(ROOT)],
        capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=env)
    lines = [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []
    return {line["item"]: line for line in lines}, proc


def measured(line: dict, name: str) -> dict:
    """The measurement ``name`` in a verdict line."""
    found = [m for m in line["measurements"] if m["name"] == name]
    assert found, f"{line['item']}: no measurement {name!r}: {line['measurements']}"
    return found[-1]


__all__ = ["FAST_BENCH", "ROOT", "DeviceType", "batch", "measured", "run_suites"]
