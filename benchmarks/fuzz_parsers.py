"""Fuzz campaign: every parser, and the SCPI/optical/ZigBee drivers against hostile peers.

Per target it prints the inputs tried, the undocumented exceptions (anything not a
``MeterbenchError``, including one raised in a driver's own thread), the hangs (calls longer
than the target's budget plus ``--margin``) and the peak memory of the run (tracemalloc).
Inputs are seeds from the project's own encoders and their mutants (flips, inserts,
deletes, Unicode digits, 5,000-digit numbers, nan/inf, line ends, floods), seeded so a run
can be repeated.  Exit status 1 if any target had an undocumented exception or a hang.

Run:  python benchmarks/fuzz_parsers.py            # full size (20,000 per parser,
                                                   #   600 per driver)
      python benchmarks/fuzz_parsers.py --quick    # a short run (500 / 20)
      python benchmarks/fuzz_parsers.py --json     # one JSON object instead of the table
      python benchmarks/fuzz_parsers.py --only duis  # targets whose name contains "duis"
"""

from __future__ import annotations

import argparse
import collections
import json
import logging
import random
import sys
import threading
import time
import traceback
import tracemalloc
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fuzz_peers import HostilePeer, PeerTarget, peer_targets
from fuzz_targets import Target, inputs, pure_targets

from harness.errors import MeterbenchError


@dataclass
class Result:
    """One target's counts."""

    target: str
    inputs: int = 0
    undocumented: int = 0
    hangs: int = 0
    documented: int = 0  # inputs refused with one of our errors (expected, fine)
    peak_kib: float = 0.0
    slowest_s: float = 0.0
    seconds: float = 0.0
    examples: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        """Keep the first few distinct failures to show."""
        if text not in self.examples and len(self.examples) < 5:
            self.examples.append(text)


def _describe(exc: BaseException) -> str:
    """``Type at file:line: message`` for an undocumented exception."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else "?"
    return f"{type(exc).__name__} at {where}: {str(exc)[:120]}"


def _run(result: Result, budget_s: float, margin_s: float, call: Callable[[], object],
         thread_errors: list[BaseException]) -> None:
    """One input: classify how ``call`` ended, and how long it took."""
    started = time.monotonic()
    try:
        call()
    except MeterbenchError:
        result.documented += 1
    except Exception as exc:
        result.undocumented += 1
        result.note(_describe(exc))
    took = time.monotonic() - started
    result.slowest_s = max(result.slowest_s, took)
    if took > budget_s + margin_s:
        result.hangs += 1
        result.note(f"hang: {took:.2f} s > {budget_s:g} s + {margin_s:g} s")
    while thread_errors:
        result.undocumented += 1
        result.note("in a thread: " + _describe(thread_errors.pop()))
    result.inputs += 1


def fuzz_pure(target: Target, count: int, seed: int, margin_s: float,
              thread_errors: list[BaseException]) -> Result:
    """``count`` inputs through one parser."""
    result = Result(target.name)
    rng = random.Random(seed)
    tracemalloc.start()
    started = time.monotonic()
    for data in inputs(rng, target, count):
        _run(result, target.budget_s, margin_s, lambda d=data: target.call(d), thread_errors)
    result.seconds = time.monotonic() - started
    result.peak_kib = tracemalloc.get_traced_memory()[1] / 1024
    tracemalloc.stop()
    return result


def fuzz_peer(target: PeerTarget, count: int, seed: int, margin_s: float,
              thread_errors: list[BaseException]) -> Result:
    """``count`` connections of one driver to a hostile peer."""
    result = Result(target.name)
    rng = random.Random(seed)
    peer = HostilePeer()
    tracemalloc.start()
    started = time.monotonic()
    try:
        for _ in range(count):
            peer.script = target.script(rng)
            _run(result, target.budget_s, margin_s, lambda: target.operation(peer.port),
                 thread_errors)
    finally:
        result.seconds = time.monotonic() - started
        result.peak_kib = tracemalloc.get_traced_memory()[1] / 1024
        tracemalloc.stop()
        peer.close()
    return result


def campaign(quick: bool, only: str | None, seed: int, margin_s: float,
             parser_count: int | None, driver_count: int | None,
             progress: Callable[[Result], None]) -> list[Result]:
    """Every target (or those matching ``only``), one after the other."""
    thread_errors: list[BaseException] = []
    ignored = {"hostile-peer"}

    def hook(args: threading.ExceptHookArgs) -> None:
        if args.thread is not None and args.thread.name in ignored:
            return
        if args.exc_value is not None and not isinstance(args.exc_value, MeterbenchError):
            thread_errors.append(args.exc_value)

    threading.excepthook = hook
    pure_n = parser_count or (500 if quick else 20_000)
    peer_n = driver_count or (20 if quick else 600)
    results: list[Result] = []
    pure: Iterable[Target] = pure_targets()
    for target in pure:
        if only is None or only in target.name:
            results.append(fuzz_pure(target, pure_n, seed, margin_s, thread_errors))
            progress(results[-1])
    for peer_target in peer_targets():
        if only is None or only in peer_target.name:
            results.append(fuzz_peer(peer_target, peer_n, seed, margin_s, thread_errors))
            progress(results[-1])
    return results


def _row(r: Result) -> str:
    return (f"{r.target:42} {r.inputs:7} {r.undocumented:6} {r.hangs:6} {r.peak_kib:10.0f} "
            f"{r.slowest_s:8.3f} {r.seconds:8.1f}")


def main() -> int:
    """Parse options, run the campaign, print the table (or JSON); 1 on any finding."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--only", help="run the targets whose name contains this")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--margin", type=float, default=0.5,
                        help="seconds over a call's budget that count as a hang")
    parser.add_argument("--parser-inputs", type=int, help="inputs per parser")
    parser.add_argument("--driver-inputs", type=int, help="connections per driver")
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)  # the drivers log every refusal; the counts say it
    header = (f"{'target':42} {'inputs':>7} {'undoc':>6} {'hangs':>6} {'peak KiB':>10} "
              f"{'slowest':>8} {'time s':>8}")
    if not args.json:
        print(header)
    started = time.monotonic()
    results = campaign(args.quick, args.only, args.seed, args.margin, args.parser_inputs,
                       args.driver_inputs,
                       (lambda r: None) if args.json else (lambda r: print(_row(r),
                                                                           flush=True)))
    totals = collections.Counter()
    for r in results:
        totals.update(inputs=r.inputs, undocumented=r.undocumented, hangs=r.hangs)
    elapsed = time.monotonic() - started
    if args.json:
        print(json.dumps({"targets": [asdict(r) for r in results],
                          "totals": {**totals, "targets": len(results),
                                     "max_peak_kib": max((r.peak_kib for r in results),
                                                         default=0.0),
                                     "seconds": round(elapsed, 1)}}, indent=1))
    else:
        print(f"{'TOTAL':42} {totals['inputs']:7} {totals['undocumented']:6} "
              f"{totals['hangs']:6}   ({len(results)} targets, {elapsed:.0f} s)")
        for r in results:
            for example in r.examples:
                print(f"  {r.target}: {example}")
    return 1 if totals["undocumented"] or totals["hangs"] else 0


if __name__ == "__main__":
    sys.exit(main())
