"""Fuzz campaign against every emulated server, over real sockets, with the emulator's RSS.

The emulated bench (as ``meterbench emulate`` serves it) runs in a child process that reports
each exception its server guards caught (``harness.emulator.guard``: an exception escaping a
server's accept or handler loop) as a JSON line.  Per target (the optical port's RFC 2217 and
socket listeners, the Telegesis dongle, the SCPI supply, the DCC) this sends protocol-biased
hostile inputs (``harness.emulator.fuzz``), each from a client that stays connected while a
SECOND client sends one well-formed request (every other input: after the first hung up);
then one flood (20 MiB, 4 MiB with ``--quick``) with no end of line, or a 15 MiB DUIS body.
It prints per target: inputs tried, undocumented exceptions, hangs (the second client not
served within ``--timeout``), and the child's peak RSS during the target (VmHWM, reset
before each) and its growth over the baseline.

Run: python benchmarks/fuzz_servers.py [--quick] [--json] [--inputs N] [--seed S]
Exit status 0 when every target has 0 undocumented exceptions, 0 hangs and bounded memory.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from harness.emulator.fuzz import TARGETS, Address, hostile_client, http_request, tcp_address

REPO = Path(__file__).resolve().parents[1]
MIB = 1024 * 1024
BOUND_MIB = 64
"""Peak RSS growth over the baseline a target may cause and still count as bounded."""


# -- the child: the emulated bench, reporting guard events --------------------------------------


def serve() -> None:
    """Child mode: start the emulated bench, print its endpoints, report guard events."""
    from harness.bench.session import BenchSession
    from harness.emulator.guard import add_error_hook

    lock = threading.Lock()

    def emit(event: dict[str, Any]) -> None:
        with lock:
            print(json.dumps(event), flush=True)

    add_error_hook(lambda server, exc: emit(
        {"event": "error", "server": server, "type": type(exc).__name__,
         "message": str(exc)[:200]}))
    session = BenchSession.from_file(None)
    emulator = session.start_emulator()
    assert emulator is not None
    try:
        emulator.power_slots()  # an unpowered meter's optical port is rightly dead
        emit({"event": "ready", "bench": emulator.describe()})
        sys.stdin.read()  # until the parent closes our stdin
    finally:
        session.close()


# -- the parent ----------------------------------------------------------------------------------


class Emulator:
    """The child process: its endpoints, its guard events, its memory."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=REPO)
        assert self.proc.stdout is not None
        ready = json.loads(self.proc.stdout.readline() or "null")
        if not ready or ready.get("event") != "ready":
            raise SystemExit("the emulated bench did not start")
        self.bench = ready["bench"]
        time.sleep(2.0)  # the meters boot
        self.errors: list[dict[str, Any]] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with contextlib.suppress(ValueError):
                event = json.loads(line)
                if event.get("event") == "error":
                    self.errors.append(event)

    def address(self, target: str) -> Address:
        """Where ``target`` listens in this emulated bench."""
        instruments = self.bench["instruments"]
        if target.startswith("optical-"):
            return tcp_address(instruments["probe_esme"]["addresses"][target[8:]])
        name = {"dongle": "dongle", "scpi": "psu", "dcc": "dcc"}[target]
        return tcp_address(instruments[name]["address"])

    def _status(self, key: str) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
        return 0

    def rss(self) -> int:
        """Resident set size now, bytes."""
        return self._status("VmRSS")

    def reset_peak(self) -> None:
        """Start a new peak-RSS measurement (Linux: 5 > clear_refs)."""
        with contextlib.suppress(OSError):
            Path(f"/proc/{self.proc.pid}/clear_refs").write_text("5")

    def peak(self) -> int:
        """Peak RSS since the last reset, bytes."""
        return self._status("VmHWM")

    def stop(self) -> None:
        """Close the child's stdin: it stops its bench and exits."""
        with contextlib.suppress(OSError):
            assert self.proc.stdin is not None
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def flood(target: str, size: int) -> bytes:
    """One oversized input for ``target``: no end of line, an endless option, a huge body."""
    if target == "optical-rfc2217":
        return b"\xff\xfa\x2c\x01" + b"\x00" * size
    if target == "dcc":
        return http_request(b"<sr:Request>" + b"x" * min(size, 15 * MIB) + b"</sr:Request>")
    return b"A" * size


def run_target(emulator: Emulator, target: str, inputs: int, rng: random.Random,
               timeout: float, flood_bytes: int) -> dict[str, Any]:
    """Fuzz one target; its counts."""
    spec = TARGETS[target]
    address = emulator.address(target)
    errors_before = len(emulator.errors)
    baseline = emulator.rss()
    emulator.reset_peak()
    hangs, hang_examples = 0, []
    started = time.monotonic()
    for i in range(inputs):
        data = spec.generate(rng)
        with hostile_client(address, data):
            if i % 2 == 0:  # every other input: probed while the hostile client stays
                served = spec.probe(address, timeout)
        if i % 2 == 1:  # ... and after it hung up
            served = spec.probe(address, timeout)
        if not served:
            hangs += 1
            if len(hang_examples) < 3:
                hang_examples.append(data[:80].hex())
    big = flood(target, flood_bytes)
    with hostile_client(address, big, timeout=30):
        served = spec.probe(address, timeout)
    if not served:
        hangs += 1
        hang_examples.append(f"flood of {len(big)} bytes")
    time.sleep(0.3)  # let the last guard events arrive
    errors = emulator.errors[errors_before:]
    peak = emulator.peak()
    return {
        "inputs": inputs + 1,
        "undocumented_exceptions": len(errors),
        "exception_types": sorted({f"{e['server']}: {e['type']}" for e in errors}),
        "exception_examples": sorted({e["message"][:100] for e in errors})[:5],
        "hangs": hangs,
        "hang_examples": hang_examples,
        "baseline_rss_mib": round(baseline / MIB, 1),
        "peak_rss_mib": round(peak / MIB, 1),
        "growth_mib": round(max(0, peak - baseline) / MIB, 1),
        "bounded": peak - baseline < BOUND_MIB * MIB,
        "flood_bytes": len(big),
        "seconds": round(time.monotonic() - started, 1),
    }


def main() -> int:
    """Parse arguments, run the campaign, print the table or JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 inputs per target, 4 MiB floods")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--inputs", type=int, help="hostile inputs per target (default 10000)")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--timeout", type=float, default=3.0,
                        help="seconds the second client waits for its answer")
    parser.add_argument("--targets", nargs="*", choices=sorted(TARGETS), default=list(TARGETS))
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve()
        return 0
    inputs = args.inputs or (200 if args.quick else 10000)
    flood_bytes = (4 if args.quick else 20) * MIB
    rng = random.Random(args.seed)
    emulator = Emulator()
    started = time.monotonic()
    try:
        results = {target: run_target(emulator, target, inputs, rng, args.timeout, flood_bytes)
                   for target in args.targets}
    finally:
        emulator.stop()
    totals = {
        "inputs": sum(r["inputs"] for r in results.values()),
        "undocumented_exceptions": sum(r["undocumented_exceptions"] for r in results.values()),
        "hangs": sum(r["hangs"] for r in results.values()),
        "all_bounded": all(r["bounded"] for r in results.values()),
        "seconds": round(time.monotonic() - started, 1),
    }
    ok = totals["undocumented_exceptions"] == 0 and totals["hangs"] == 0 and totals["all_bounded"]
    if args.json:
        print(json.dumps({"targets": results, "totals": totals, "ok": ok}))
    else:
        print(f"{'target':16} {'inputs':>7} {'undoc.exc':>9} {'hangs':>6} {'base MiB':>9} "
              f"{'peak MiB':>9} {'growth':>7} {'bounded':>7} {'secs':>6}")
        for name, r in results.items():
            print(f"{name:16} {r['inputs']:7d} {r['undocumented_exceptions']:9d} {r['hangs']:6d} "
                  f"{r['baseline_rss_mib']:9.1f} {r['peak_rss_mib']:9.1f} {r['growth_mib']:7.1f} "
                  f"{'yes' if r['bounded'] else 'NO':>7} {r['seconds']:6.1f}")
            for kind in r["exception_types"]:
                print(f"{'':16}   exception: {kind}")
            for message in r["exception_examples"]:
                print(f"{'':16}     e.g. {message}")
            for example in r["hang_examples"]:
                print(f"{'':16}   hang after: {example}")
        print(f"{'total':16} {totals['inputs']:7d} {totals['undocumented_exceptions']:9d} "
              f"{totals['hangs']:6d}   memory bounded: {'yes' if totals['all_bounded'] else 'NO'}"
              f"   {totals['seconds']} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
