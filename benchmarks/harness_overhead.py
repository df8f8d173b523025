"""The harness's own cost per test, against the same exchange done by a bare script.

One exchange is either an SCPI ``MEAS:CURR?`` to the emulated supply or a whole IEC 62056-21
readout of the emulated electricity meter (the fast bench's optical probe, in process, so
neither pyserial's RFC 2217 polling nor a socket's thread wake-ups drown the figure). The
bare script times N exchanges in a loop with the driver on an open emulated bench. The
pytest figures run N identical tests, one exchange each, in a generated test file (a fresh
pytest process per run). Interpreter start, imports
and the bench start cost the same at any N, so the time per test is the slope between two N:
of the process's wall time, and (far less noisy: interpreter and emulator start-up vary by
tenths of a second here) of the session alone, from ``pytest_sessionstart`` to
``pytest_sessionfinish`` less the first test's set-up (where the bench starts), which still
holds the collection, set-up, call, teardown and report of every test. Medians
over runs at each N. Three pytest set-ups separate the costs: the meterbench
plugin off (``-p no:meterbench``, a bare session fixture opens the bench: pytest's own
per-test cost), the plugin's session ``bench`` fixture (plus its hooks: transcripts marked
and attached to every report, device ordering, verdict plumbing), and for SCPI the plugin's
``power`` fixture, which also puts the supply in its safe state after every test.
Run: python benchmarks/harness_overhead.py [--counts 100 1000] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

from _fast_bench import fast_bench_file, shown

from harness.bench.bench import Bench
from harness.bench.session import BenchSession

EXCHANGES = {
    "scpi": "bench.power.measure_current(1)",
    "optical": 'bench.slot("esme").instrument("optical").readout()',
}
"""Each exchange as a statement on an open ``bench``."""
POWER_ON = """
    slot = bench.slot("esme")
    slot.power.set_voltage(slot.config.supply_voltage)
    slot.power.on()
    bench.wait(slot.config.boot_s + 0.4)
"""
"""Switches the electricity meter on and lets it boot (the optical exchange needs it)."""

TIMER = "mb_session_timer"
TIMER_SOURCE = textwrap.dedent("""\
    \"\"\"Writes the session's seconds, less the bench start, to $MB_SESSION_S.\"\"\"
    import os
    import time

    _START = []
    _FIRST_SETUP = []


    def pytest_sessionstart(session):
        _START.append(time.perf_counter())


    def pytest_runtest_logreport(report):
        if report.when == "setup" and not _FIRST_SETUP:
            _FIRST_SETUP.append(report.duration)


    def pytest_sessionfinish(session, exitstatus):
        with open(os.environ["MB_SESSION_S"], "w") as out:
            out.write(repr(time.perf_counter() - _START[0] - sum(_FIRST_SETUP)))
    """)
"""A pytest plugin (``-p``) timing the session alone: no interpreter start or imports, and
not the first test's set-up, where the bench (and its emulator) starts."""


@dataclass(frozen=True)
class Setup:
    """One way of running the exchange under pytest."""

    name: str
    plugin: bool  # the meterbench plugin loaded (else a bare session fixture opens the bench)
    fixture: str  # what the test takes: "bench" or "power"


SETUPS = (Setup("pytest, plugin off", False, "bench"),
          Setup("pytest + meterbench bench", True, "bench"),
          Setup("pytest + meterbench power", True, "power"))


def bare(bench_file: Path, exchange: str, count: int, runs: int) -> float:
    """Median seconds per exchange over ``runs`` loops of ``count``, on one open bench."""
    session = BenchSession.from_file(bench_file)
    bench: Bench = session.open(purpose="benchmark")
    # The very statement text the generated tests run, so both sides do the same exchange.
    statement = compile(EXCHANGES[exchange], exchange, "exec")
    env = {"bench": bench}
    try:
        if exchange == "optical":
            exec(compile(textwrap.dedent(POWER_ON), "power_on", "exec"), env)
        for _ in range(5):  # warm: connections made, code paths imported
            exec(statement, env)
        per = []
        for _ in range(runs):
            start = time.perf_counter()
            for _ in range(count):
                exec(statement, env)
            per.append((time.perf_counter() - start) / count)
    finally:
        session.close()
    return statistics.median(per)


def write_tests(folder: Path, bench_file: Path, exchange: str, setup: Setup,
                count: int) -> Path:
    """A pytest folder: ``count`` identical tests doing the exchange once each; its file."""
    folder.mkdir(parents=True, exist_ok=True)
    conftest = "import pytest\n"
    if not setup.plugin:  # the bench opened by hand, as a plain pytest project would
        conftest += textwrap.dedent(f"""
            from harness.bench.session import BenchSession

            @pytest.fixture(scope="session")
            def bench():
                session = BenchSession.from_file({str(bench_file)!r})
                yield session.open(purpose="pytest")
                session.close()
            """)
    if exchange == "optical":
        conftest += "\n@pytest.fixture(scope=\"session\", autouse=True)\ndef meter_on(bench):" \
                    + POWER_ON.rstrip() + "\n"
    (folder / "conftest.py").write_text(conftest)
    (folder / f"{TIMER}.py").write_text(TIMER_SOURCE)
    statement = EXCHANGES[exchange]
    if setup.fixture == "power":
        statement = statement.replace("bench.power", "power")
    test = folder / "test_exchange.py"
    test.write_text(textwrap.dedent(f"""
        import pytest

        @pytest.mark.parametrize("i", range({count}))
        def test_exchange({setup.fixture}, i):
            {statement}
        """))
    return test


def pytest_run(bench_file: Path, test: Path, setup: Setup, count: int) -> tuple[float, float]:
    """Wall seconds of one pytest process over the generated file, and of its session alone
    (all tests must pass)."""
    session_file = test.parent / "session_s.txt"
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
               "-p", TIMER, str(test)]  # python -m puts the folder (cwd) on sys.path
    command += ["--mb-bench", str(bench_file)] if setup.plugin else ["-p", "no:meterbench"]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=test.parent, capture_output=True, text=True,
                          check=False, env={**os.environ, "MB_SESSION_S": str(session_file)})
    elapsed = time.perf_counter() - start
    if done.returncode != 0 or f"{count} passed" not in done.stdout:
        raise SystemExit(f"{setup.name}, {test}: exit {done.returncode}\n"
                         f"{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return elapsed, float(session_file.read_text())


def per_test(bench_file: Path, folder: Path, exchange: str, setup: Setup,
             counts: tuple[int, int], runs: int) -> tuple[float, float]:
    """Seconds per test, from process wall time and from session time: slopes of the medians
    between the two counts."""
    walls, sessions = [], []
    for count in counts:
        test = write_tests(folder / f"{exchange}-{setup.fixture}-{setup.plugin}-{count}",
                           bench_file, exchange, setup, count)
        runs_at = [pytest_run(bench_file, test, setup, count) for _ in range(runs)]
        walls.append(statistics.median(w for w, _ in runs_at))
        sessions.append(statistics.median(s for _, s in runs_at))
    span = counts[1] - counts[0]
    return (walls[1] - walls[0]) / span, (sessions[1] - sessions[0]) / span


def main() -> None:
    """Time the bare loop and each pytest set-up per exchange; print the per-test overhead."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--counts", type=int, nargs=2, default=[100, 1000], metavar=("N1", "N2"),
                        help="the two test counts whose difference gives the slope")
    parser.add_argument("--runs", type=int, default=3, help="runs at each N (median)")
    parser.add_argument("--exchanges", nargs="+", choices=sorted(EXCHANGES),
                        default=["scpi", "optical"])
    args = parser.parse_args()
    counts = (min(args.counts), max(args.counts))
    if counts[0] < 1 or counts[0] == counts[1] or args.runs < 1:
        parser.error("--counts needs two different positive counts; --runs 1 or more")
    with tempfile.TemporaryDirectory(prefix="mb-harness-overhead-") as tmp_name:
        tmp = Path(tmp_name)
        bench_file = fast_bench_file(tmp)
        print(f"bench: {shown(bench_file)}; pytest at N = {counts[0]} and {counts[1]} tests, "
              f"median of {args.runs} run(s) each; bare loop of {counts[1]} exchanges")
        print(f"{'exchange':<8} {'how':<26} {'ms/test':>8} {'overhead ms':>11} {'x bare':>7} "
              f"{'wall ms/test':>12}")
        for exchange in args.exchanges:
            base = bare(bench_file, exchange, counts[1], args.runs)
            print(f"{exchange:<8} {'bare script loop':<26} {base * 1000:>8.3f} {'':>11} "
                  f"{1.0:>6.1f}x", flush=True)
            for setup in SETUPS:
                if setup.fixture == "power" and exchange != "scpi":
                    continue  # the power fixture switches the meter off after every test
                wall, session = per_test(bench_file, tmp, exchange, setup, counts, args.runs)
                print(f"{'':<8} {setup.name:<26} {session * 1000:>8.3f} "
                      f"{(session - base) * 1000:>11.3f} {session / base:>6.1f}x "
                      f"{wall * 1000:>12.3f}", flush=True)
        print("ms/test: slope of the session time; overhead: that minus the bare exchange "
              "(rows differ by what the meterbench plugin and its fixtures add); wall ms/test: "
              "slope of the whole process's wall time (start-up noise included)")


if __name__ == "__main__":
    main()
