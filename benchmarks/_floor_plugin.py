"""pytest plugin for benchmarks/stage_floor.py: records, per triage test, what the floor of
that test is computed from and where its wall time went.

Loaded into a ``meterbench triage`` run with ``-- -p _floor_plugin`` (``benchmarks/`` on
PYTHONPATH); writes one JSON line per test to the file ``MB_FLOOR_OUT`` names: the test's wall
start and end, its device and type, the bytes each way on the device's optical line with the
baud each travelled at (the probe's baud changes are recorded), the supply's power-ons and
-offs, every ``Bench.wait`` (seconds and the caller's file:line), the dongle's join
notifications, and a sampled profile of the main thread (where it stood, by file:line, every
``MB_FLOOR_SAMPLE_S`` seconds) that names the waits which are not the device's.
Instrumentation only: it changes no timing beyond the sampler's own small cost.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

from harness.bench.bench import Bench
from harness.drivers.power.base import PowerChannel
from harness.plugin.session import SESSION_KEY
from harness.plugin.triage_run import RUN_KEY

REPO = str(Path(__file__).resolve().parents[1])
_EVENTS: list[dict[str, Any]] = []  # power and wait events, time-stamped (wall seconds)
_LOCK = threading.Lock()


def _caller(frame: FrameType | None, skip: str) -> str:
    """The first frame outside ``skip`` (a file) and the device's own ``Dut.wait`` (which
    only passes a wait on), as ``path:line (function)``."""
    while frame is not None and (frame.f_code.co_filename == skip or (
            frame.f_code.co_name == "wait"
            and frame.f_code.co_filename.endswith(os.path.join("plugin", "device.py")))):
        frame = frame.f_back
    if frame is None:
        return "?"
    return f"{_short(frame.f_code.co_filename)}:{frame.f_lineno} ({frame.f_code.co_name})"


def _short(path: str) -> str:
    return path[len(REPO) + 1:] if path.startswith(REPO + os.sep) else path


def _record(kind: str, **fields: Any) -> None:
    with _LOCK:
        _EVENTS.append({"kind": kind, "t": time.time(), **fields})


_original_wait = Bench.wait
_original_on = PowerChannel.on
_original_off = PowerChannel.off


def _wait(self: Bench, seconds: float) -> None:
    start = time.time()
    _original_wait(self, seconds)
    _record("wait", start=start, seconds=seconds, scale=self.time_scale,
            where=_caller(sys._getframe(1), __file__))


def _on(self: PowerChannel) -> None:
    _original_on(self)
    _record("power", state="on", channel=self.number)


def _off(self: PowerChannel) -> None:
    _original_off(self)
    _record("power", state="off", channel=self.number)


def pytest_configure(config: pytest.Config) -> None:
    """Wrap the bench's waits and the supply's switching (this process only)."""
    Bench.wait = _wait  # type: ignore[method-assign]
    PowerChannel.on = _on  # type: ignore[method-assign]
    PowerChannel.off = _off  # type: ignore[method-assign]


class _Sampler:
    """Where the main thread stands, every ``every`` seconds: the innermost frame of the
    project's own code, with the triage step (test_suites frame) that led there."""

    def __init__(self, every: float) -> None:
        self.every = every
        self.counts: Counter[str] = Counter()
        self._main = threading.main_thread().ident
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="floor-sampler")

    def __enter__(self) -> _Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            frame = sys._current_frames().get(self._main or 0)
            if frame is not None:
                self.counts[_where(frame)] += 1


def _where(frame: FrameType | None) -> str:
    inner = suite = None
    while frame is not None:
        name = frame.f_code.co_filename
        if name.startswith(REPO) and name != __file__ and "/.venv/" not in name:
            here = f"{_short(name)}:{frame.f_lineno} ({frame.f_code.co_name})"
            inner = inner or here
            if "/test_suites/" in name:
                suite = here
                break
        frame = frame.f_back
    if inner is None:
        return "(outside the project)"
    return inner if suite in (None, inner) else f"{inner} <- {suite}"


def _wrap_probes(bench: Bench | None) -> None:
    """Record every byte each way on the bench's optical instruments (probes, serial ports)
    with the baud it travels at: the transcript joins pieces that come within 50 ms, which on
    a fast line would put a sign-off at 9600 Bd and the next sign-on at 300 Bd in one entry."""
    for inst in (bench.instruments.values() if bench is not None else ()):
        if not hasattr(inst, "_set_baud") or hasattr(inst, "_floor_bytes"):
            continue
        inst._floor_bytes = []
        write, read = inst._write, inst._read

        def logged_write(data: bytes, inst: Any = inst, write: Any = write) -> None:
            inst._floor_bytes.append((time.time(), ">", bytes(data), inst.baud))
            write(data)

        def logged_read(timeout: float, inst: Any = inst, read: Any = read) -> bytes:
            data = read(timeout)
            if data:
                inst._floor_bytes.append((time.time(), "<", bytes(data), inst.baud))
            return data

        inst._write, inst._read = logged_write, logged_read


def _instrument(run: Any, key: str, role: str) -> Any:
    """The instrument in ``role`` of the device's slot, or None."""
    bench, dut = run.session.bench, run.duts.get(key)
    if bench is None or dut is None or role not in dut.config.instruments:
        return None
    return bench.instruments.get(dut.config.instruments[role].instrument)


def _entries(inst: Any, t0: float, t1: float) -> list[dict[str, Any]]:
    """The optical bytes of one test, each write and read with its baud."""
    return [{"t": t, "dir": d, "n": len(data), "baud": baud, "nul": data.count(0) == len(data),
             "head": data[:24].hex()} for t, d, data, baud in inst._floor_bytes if t0 <= t <= t1]


def _dongle_joins(inst: Any, t0: float, t1: float) -> int:
    """NEWNODE prompts the dongle gave during the test (joins that happened)."""
    with inst.transcript._lock:
        return sum(e.data.count(b"NEWNODE:") for e in inst.transcript.entries
                   if t0 <= e.t <= t1 and e.direction == "<")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """Time the test and note what its device exchanged and waited."""
    out = os.environ.get("MB_FLOOR_OUT")
    if not out:
        yield
        return
    callspec = getattr(item, "callspec", None)
    key = callspec.params.get("dut") if callspec else None
    with _LOCK:
        _EVENTS.clear()
    session = item.config.stash.get(SESSION_KEY, None)
    bench = session.bench if session is not None else None
    _wrap_probes(bench)
    for inst in (bench.instruments.values() if bench is not None else ()):
        getattr(inst, "_floor_bytes", []).clear()  # each test's own bytes (memory stays flat)
    t0 = time.time()
    with _Sampler(float(os.environ.get("MB_FLOOR_SAMPLE_S", "0.005"))) as sampler:
        yield
    t1 = time.time()
    run = item.config.stash.get(RUN_KEY, None)
    line: dict[str, Any] = {"nodeid": item.nodeid, "stage": Path(str(item.fspath)).stem,
                            "test": item.name, "key": key, "t0": t0, "t1": t1,
                            "samples": dict(sampler.counts), "sample_s": sampler.every,
                            "clauses": [str(m.args[0]) for m in item.iter_markers("spec")
                                        if m.args]}
    if run is not None and isinstance(key, str) and key in run.duts:
        dut = run.duts[key]
        line["device_type"] = run.device_type(key).name
        line["slot"] = dut.slot.name
        line["boot_s"] = dut.config.boot_s
        line["model"] = dut.record.identity.model if dut.record.identity else None
        _wrap_probes(run.session.bench)
        inst = _instrument(run, key, "optical")
        if inst is not None and hasattr(inst, "_floor_bytes"):
            line["optical"] = _entries(inst, t0, t1)
            line["wakeup"] = {k: inst.config.options.get(k) for k in
                              ("wakeup", "wakeup_s", "wakeup_pause_s", "wakeup_holds_s")}
        dongle = _instrument(run, key, "han")
        line["joins"] = _dongle_joins(dongle, t0, t1) if dongle is not None else 0
    if session is not None:
        line["time_scale"] = session.config.bench.time_scale
    with _LOCK:
        line["events"] = list(_EVENTS)
    with open(out, "a", encoding="utf-8") as f:
        f.write(json.dumps(line) + "\n")
