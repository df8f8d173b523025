"""The signal matrix of issue 12: signal x stage -> outputs off, lock free, device re-triaged.

Every cell runs a real command against a "lab" bench whose instruments outlive it (``meterbench
emulate --json --log FILE`` in its own process, fresh for each cell), sends the signal at a
stage recognised from the run's own progress (a stage marker plugin) or from the supply's own
command log, and then judges by what the supply itself received:

- outputs off: the supply's log says every output was last told OFF;
- lock free: the bench lock can be taken at once after the run;
- (triage) device re-triaged on resume: the run exits 130 having stored the device as
  INTERRUPTED, the exact command it printed to resume is run, and the device ends up with
  exactly one result, a real verdict (a device whose verdict was committed before the signal
  keeps it and is not triaged twice).

Cells: ``meterbench triage`` (one ESME, ``-k esme``) for SIGINT, SIGINT twice 0.5 s apart,
SIGTERM and SIGHUP at each of: device powered (diagnostics), destructive reset, teardown
(the end-of-device safe state); plus ``meterbench qa`` and a plain ``pytest`` run (which
keeps pytest's own status for an interrupt, 2).

    python benchmarks/signal_matrix.py [--json] [--only triage|qa|pytest]

About 5 minutes on a 2-core machine (12 triage cells of ~20 s, 3 others of ~5 s). Exit status
0 when every cell is green, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from _lab import Lab, audit_log, meterbench, run_env, start_lab  # noqa: E402

from harness.bench.lock import BenchLock  # noqa: E402
from harness.config.loader import load_bench  # noqa: E402
from harness.emulator.power.scpi import outputs_from_log  # noqa: E402
from harness.errors import BenchLockedError  # noqa: E402
from harness.results.store import INTERRUPTED, ResultStore  # noqa: E402

SIGNALS: dict[str, list[int]] = {
    "SIGINT": [signal.SIGINT],
    "SIGINTx2": [signal.SIGINT, signal.SIGINT],
    "SIGTERM": [signal.SIGTERM],
    "SIGHUP": [signal.SIGHUP],
}
STAGES = ("powered", "reset", "teardown")
DEVICE = "esme"
INTERRUPTED_EXIT = {"triage": 130, "qa": 130, "pytest": 2}
"""The documented status of an interrupted run: meterbench's 130; plain pytest keeps its own."""
RUN_TIMEOUT_S = 180

PYTEST_SUITE = """
import time

def test_powered(power):
    power.set_voltage(230.0, 1)
    power.output(True, 1)
    if {hold}:
        time.sleep(60)
"""


@dataclass
class Cell:
    """One run of the matrix and what the instruments say it did."""

    command: str
    signal: str
    stage: str
    exit_status: int | None = None
    powered_at_signal: bool | None = None
    outputs_off: bool = False
    lock_free: bool = False
    retriaged: str | None = None  # triage only: "re-triaged", "kept its verdict", or why not
    green: bool = False
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


def _wait(predicate, proc: subprocess.Popen, what: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if proc.poll() is not None:
            raise RuntimeError(f"the run ended (status {proc.returncode}) before {what}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"no {what} within {timeout:.0f} s")
        time.sleep(0.005)


def _stage_seen(stage_file: Path, text: str) -> bool:
    return stage_file.exists() and text in stage_file.read_text()


def _log_seen(lab: Lab, command: str, channel: int | None = None, after: float = 0.0) -> bool:
    return any(e.command == command and (channel is None or e.channel == channel)
               and e.t >= after for e in lab.commands())


def _trigger(stage: str, command: str, lab: Lab, stage_file: Path, proc: subprocess.Popen) -> None:
    """Block until the run is at ``stage``."""
    if command != "triage":
        if stage == "teardown":  # the power fixture's safe state has started
            _wait(lambda: _log_seen(lab, "OUTP OFF", channel=2, after=_on_time(lab)), proc,
                  "the teardown's OUTP OFF")
        else:
            _wait(lambda: _log_seen(lab, "OUTP ON"), proc, "OUTP ON")
        return
    if stage == "powered":
        _wait(lambda: _stage_seen(stage_file, "test_30_diagnostics"), proc, "diagnostics")
    elif stage == "reset":
        _wait(lambda: _stage_seen(stage_file, "test_60_reset"), proc, "the reset stage")
    else:  # the end-of-device safe state: every channel off, channel 2 among them
        _wait(lambda: _stage_seen(stage_file, "test_70_verify"), proc, "verification")
        since = time.time()
        _wait(lambda: _log_seen(lab, "OUTP OFF", channel=2, after=since), proc,
              "the end-of-device OUTP OFF")


def _on_time(lab: Lab) -> float:
    ons = [e.t for e in lab.commands() if e.command == "OUTP ON"]
    return ons[0] if ons else float("inf")


def _lock_free(bench: Path, folder: Path) -> bool:
    name = load_bench(bench).bench.name
    try:
        BenchLock(name, directory=folder / "locks").acquire().release()
    except BenchLockedError:
        return False
    return True


def _device_rows(db: str) -> list[tuple[str, str, str]]:
    """The device's stored rows: (item, verdict, when its triage started)."""
    with ResultStore.open(db, create=False) as store:
        return [(r.item_key, r.verdict, r.started.isoformat())
                for r in store.results(with_measurements=False, with_traces=False)
                if r.item_key == DEVICE]


def _resume_command(stderr: str) -> list[str] | None:
    """The command the interrupted run printed to resume it, runnable here."""
    marker = "Resume with: "
    for line in stderr.replace("\n", " ").split(marker)[1:]:
        words = shlex.split(line.strip())
        if words and words[0] == "meterbench":
            return meterbench(*words[1:])
    return None


def run_cell(command: str, sig: str, stage: str, root: Path) -> Cell:
    """Run one cell in a folder of its own, with a fresh lab bench."""
    cell = Cell(command, sig, stage)
    started = time.monotonic()
    folder = root / f"{command}-{sig}-{stage}"
    lab = start_lab(folder)
    try:
        _run(cell, lab, folder)
    except (RuntimeError, subprocess.TimeoutExpired, OSError) as exc:
        cell.notes.append(str(exc))
    finally:
        lab.stop()
    cell.seconds = round(time.monotonic() - started, 1)
    return cell


def _command_line(command: str, lab: Lab, folder: Path, audit: str, db: str) -> list[str]:
    if command == "triage":
        return meterbench("triage", "--bench", str(lab.bench), "--no-prompts", "--db", db,
                          "--audit-db", audit, "--role", "supplier", "--",
                          "-k", DEVICE, "-p", "_stage_marker")
    if command == "qa":
        return meterbench("qa", "--bench", str(lab.bench), "--", "--mb-audit-db", audit,
                          "--mb-no-prompts")
    suite = folder / "test_inner.py"
    suite.write_text(PYTEST_SUITE.format(hold=True))
    return [sys.executable, "-m", "pytest", str(suite), "--mb-bench", str(lab.bench), "-p",
            "no:cacheprovider", "-q", "--rootdir", str(folder), "--mb-audit-db", audit,
            "--mb-no-prompts"]


def _run(cell: Cell, lab: Lab, folder: Path) -> None:
    audit = audit_log(folder)
    db = f"sqlite:///{folder / 'results.db'}"
    stage_file = folder / "stages"
    env = {**run_env(folder), "MB_STAGE_FILE": str(stage_file),
           "PYTHONPATH": str(REPO / "tests")}
    cmd = _command_line(cell.command, lab, folder, audit, db)
    if cell.command == "pytest" and cell.stage == "teardown":
        (folder / "test_inner.py").write_text(PYTEST_SUITE.format(hold=False))
    proc = subprocess.Popen(cmd, cwd=folder, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        _trigger(cell.stage, cell.command, lab, stage_file, proc)
        sent = time.time()
        for i, signum in enumerate(SIGNALS[cell.signal]):
            if i:
                time.sleep(0.5)
            if proc.poll() is None:
                proc.send_signal(signum)
        _, stderr = proc.communicate(timeout=RUN_TIMEOUT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    cell.exit_status = proc.returncode
    before = [e for e in lab.commands() if e.t <= sent]
    cell.powered_at_signal = any(outputs_from_log(before, "psu", 3).values())
    cell.outputs_off = not any(lab.outputs().values())
    cell.lock_free = _lock_free(lab.bench, folder)
    expected = INTERRUPTED_EXIT[cell.command]
    interrupted_exit = cell.exit_status == expected
    finished_first = cell.stage == "teardown" and cell.exit_status in (0, 1)
    if not (interrupted_exit or finished_first):
        cell.notes.append(f"exit status {cell.exit_status}, expected {expected}")
    if cell.command == "triage":
        cell.retriaged = _check_resume(cell, stderr, db, folder, env)
    ok_resume = cell.command != "triage" or cell.retriaged in ("re-triaged", "kept its verdict")
    cell.green = (cell.outputs_off and cell.lock_free and ok_resume
                  and (interrupted_exit or finished_first))


def _check_resume(cell: Cell, stderr: str, db: str, folder: Path, env: dict[str, str]) -> str:
    """Run the printed resume command; the device must end with one real verdict."""
    first = _device_rows(db)
    if cell.exit_status == 130:
        resume = _resume_command(stderr)
        if resume is None:
            return "no resume command printed"
    else:  # the run finished before the signal could stop it: its verdict stands
        return "kept its verdict" if len(first) == 1 and first[0][1] != INTERRUPTED \
            else f"run ended with {first}"
    again = subprocess.run(resume, cwd=folder, env=env, capture_output=True, text=True,
                           timeout=RUN_TIMEOUT_S)
    if again.returncode not in (0, 1):
        return f"resume exited {again.returncode}: {again.stderr.strip()[-300:]}"
    after = _device_rows(db)
    if len(after) != 1 or after[0][1] == INTERRUPTED:
        return f"after resume: {after}"
    if first and first[0][1] == INTERRUPTED:
        return "re-triaged" if after[0][2] != first[0][2] else "not re-triaged"
    if first == after:
        return "kept its verdict"
    return f"before resume {first}, after {after}"


def matrix(only: str | None = None, sig: str | None = None,
           stage: str | None = None) -> list[tuple[str, str, str]]:
    """The cells to run: (command, signal, stage), optionally only some."""
    cells = [("triage", s, st) for st in STAGES for s in SIGNALS]
    cells += [("qa", "SIGTERM", "powered"), ("pytest", "SIGTERM", "powered"),
              ("pytest", "SIGINTx2", "teardown")]
    return [c for c in cells if (only is None or c[0] == only)
            and (sig is None or c[1] == sig) and (stage is None or c[2] == stage)]


def main() -> int:
    """Run the matrix and print it (or one JSON object with ``--json``)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="one JSON object: cells, totals")
    parser.add_argument("--only", choices=("triage", "qa", "pytest"), default=None)
    parser.add_argument("--signal", choices=tuple(SIGNALS), default=None)
    parser.add_argument("--stage", choices=STAGES, default=None)
    args = parser.parse_args()
    started = time.monotonic()
    cells: list[Cell] = []
    with tempfile.TemporaryDirectory(prefix="mb-signal-matrix-") as tmp:
        for command, sig, stage in matrix(args.only, args.signal, args.stage):
            cell = run_cell(command, sig, stage, Path(tmp))
            cells.append(cell)
            if not args.json:
                print(_row(cell), flush=True)
    totals = {"cells": len(cells), "green": sum(c.green for c in cells),
              "red": sum(not c.green for c in cells),
              "outputs_off": sum(c.outputs_off for c in cells),
              "lock_free": sum(c.lock_free for c in cells),
              "retriaged_ok": sum(c.retriaged in ("re-triaged", "kept its verdict")
                                  for c in cells if c.command == "triage"),
              "triage_cells": sum(c.command == "triage" for c in cells),
              "seconds": round(time.monotonic() - started, 1)}
    if args.json:
        print(json.dumps({"cells": [asdict(c) for c in cells], "totals": totals}))
    else:
        print(f"signal matrix: {totals['green']}/{totals['cells']} green; outputs off "
              f"{totals['outputs_off']}/{totals['cells']}, lock free {totals['lock_free']}/"
              f"{totals['cells']}, device re-triaged on resume {totals['retriaged_ok']}/"
              f"{totals['triage_cells']}; {totals['seconds']} s")
    return 0 if totals["red"] == 0 else 1


def _row(cell: Cell) -> str:
    mark = "GREEN" if cell.green else "RED  "
    resume = f" resume={cell.retriaged}" if cell.command == "triage" else ""
    notes = f"  [{'; '.join(cell.notes)}]" if cell.notes else ""
    return (f"{mark} {cell.command:<7} {cell.signal:<9} {cell.stage:<9} exit={cell.exit_status} "
            f"powered_at_signal={cell.powered_at_signal} outputs_off={cell.outputs_off} "
            f"lock_free={cell.lock_free}{resume} ({cell.seconds} s){notes}")


if __name__ == "__main__":
    sys.exit(main())
