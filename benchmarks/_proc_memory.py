"""Peak memory of each process of a process tree, sampled from ``/proc`` (Linux only).

``os.wait4`` gives one figure for a whole ``meterbench triage`` run (the largest of the
process and its waited-for descendants); to tell the pytest-xdist controller from its workers,
a thread reads ``/proc/<pid>/status`` (VmHWM, the kernel's own high-water mark of the resident
set, and VmRSS) of the root process and of every descendant every ``interval`` seconds. VmHWM
is exact however seldom it is read, as long as one read comes after the growth: a process that
exits between two samples loses at most ``interval`` seconds of it. Where ``/proc`` is missing
(macOS, Windows) :attr:`ProcessTreeMemory.available` is False and nothing is sampled.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

PROC = Path("/proc")


@dataclass
class ProcessMemory:
    """One process seen in the tree: its command line, peak and its RSS over time."""

    pid: int
    command: str
    peak: int = 0  # bytes: the largest VmHWM read
    samples: list[tuple[float, int]] = field(default_factory=list)  # (seconds, VmRSS bytes)


def _status_kib(pid: int) -> tuple[int, int] | None:
    """(VmHWM, VmRSS) in bytes of ``pid``, or None once it is gone (or a kernel thread)."""
    try:
        text = (PROC / str(pid) / "status").read_text()
    except OSError:
        return None
    values: dict[str, int] = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmHWM", "VmRSS"):
            values[key] = int(rest.split()[0]) * 1024
    if len(values) != 2:
        return None
    return values["VmHWM"], values["VmRSS"]


def _children(pid: int) -> list[int]:
    """Direct children of ``pid`` (every thread's children file; empty when it is gone)."""
    found: list[int] = []
    try:
        tasks = list((PROC / str(pid) / "task").iterdir())
    except OSError:
        return found
    for task in tasks:
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def _command(pid: int) -> str:
    """``pid``'s command line as one string ('' once it is gone)."""
    try:
        raw = (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()


class ProcessTreeMemory:
    """Samples the memory of a process and its descendants in a thread until stopped."""

    def __init__(self, root: int, interval: float = 0.5) -> None:
        self.root = root
        self.interval = interval
        self.available = (PROC / "self" / "status").exists()
        self.processes: dict[int, ProcessMemory] = {}
        self._stop = threading.Event()
        self._start = time.perf_counter()
        self._thread = threading.Thread(target=self._run, name="proc-memory", daemon=True)

    def __enter__(self) -> ProcessTreeMemory:
        if self.available:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def sample(self) -> None:
        """Read every process of the tree once (the thread calls it; callable by hand)."""
        now = time.perf_counter() - self._start
        pending = [self.root]
        while pending:
            pid = pending.pop()
            status = _status_kib(pid)
            if status is None:
                continue
            seen = self.processes.get(pid)
            if seen is None:
                seen = self.processes[pid] = ProcessMemory(pid, _command(pid))
            seen.peak = max(seen.peak, status[0])
            seen.samples.append((now, status[1]))
            pending += _children(pid)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def root_peak(self) -> int:
        """The root process's peak resident set (0 when never seen)."""
        seen = self.processes.get(self.root)
        return seen.peak if seen else 0

    def largest_descendant(self) -> ProcessMemory | None:
        """The descendant (e.g. a pytest-xdist worker) with the largest peak, if any."""
        others = [p for pid, p in self.processes.items() if pid != self.root]
        return max(others, key=lambda p: p.peak, default=None)
