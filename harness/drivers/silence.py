"""When a fast bench may call a device silent (an optical port that does not answer, a radio
that does not join): after the device's own (scaled) timeout if the host was free meanwhile,
else only after the wall-clock floor.

A scaled timeout is short (0.1 s at x10), and a loaded host can hold a process up for longer
than that: CI with two campaigns on two cores once took a healthy meter for a silent one, which
is why a scaled timeout never waits less than ``MIN_TIMEOUT_S`` of wall time. That floor is paid
in full by every dead port, on every attempt (6 to 18 s a device). So the floor is adaptive:
the kernel counts the time tasks waited for a CPU (Linux pressure stall information, the
"some" line of ``/proc/pressure/cpu``); a silence that has lasted the device's scaled timeout
while the host's tasks waited for a CPU less than ``STALL_SHARE`` of it was the device's, and is
judged then. Any more CPU waiting, or no such figures (another OS, an older kernel), and the
silence must last the whole floor, as before. A host so loaded that its tasks waited for a CPU
for most of the floor (``SATURATED_SHARE``) is heard out to ``SATURATED_FACTOR`` times the floor:
an emulated meter starved that long has not had its turn to answer, and a dead port then costs
more only on a saturated host. A timeout's message says how much of the silence was the host's.

A port whose meter answers inside the probe's own calls (the fast bench's in-process port,
``peer_in_thread``) has no floor: a read there waits until the meter's scheduled answers are due
and hands them over, so nothing but the meter can make an answer late, however busy the host.
Two workers on two cores kept the host's tasks waiting for a CPU most of the time, and every
dropped frame of a flaky port cost the whole floor (a second) instead of the meter's 15 ms.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

PRESSURE_FILE = Path("/proc/pressure/cpu")
STALL_SHARE = 0.1
"""The share of a silence the host's tasks may have waited for a CPU while it is still judged
the device's. An emulated meter held up long enough to miss its scaled timeout was itself a
task waiting for a CPU for most of the silence, so its hold-up alone would count several times
this; the figure is system-wide, so any other busy process counts against it too (the safe
side)."""

SATURATED_SHARE = 0.5
"""Past the floor, a silence during which the host's tasks waited for a CPU more than this share
of it is heard out longer (to ``SATURATED_FACTOR`` times the floor)."""
SATURATED_FACTOR = 3.0

StallClock = Callable[[], float | None]
"""Seconds the host's tasks have waited for a CPU so far (cumulative), or None if unknown."""


def cpu_stall_s(path: Path = PRESSURE_FILE) -> float | None:
    """The host's cumulative CPU stall (PSI ``some`` total) in seconds; None where the kernel
    gives no pressure figures. Read with ``pread`` on a descriptor kept open (every byte an
    optical read hears asks for it: opening the file each time was a tenth of a read)."""
    fd = _pressure_fd(path)
    if fd is None:
        return None
    try:
        text = os.pread(fd, 512, 0).decode("ascii", "replace")
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("some "):
            for field in line.split()[1:]:
                name, _, value = field.partition("=")
                if name == "total" and value.isdigit():
                    return int(value) / 1e6
    return None


def others_cpu_s() -> float:
    """CPU seconds of this process's threads other than the calling one, so far."""
    return time.process_time() - time.thread_time()


_FDS: dict[Path, int] = {}
_FDS_LOCK = threading.Lock()


def _pressure_fd(path: Path) -> int | None:
    """A read-only descriptor of ``path``, opened once per process (None: cannot be opened)."""
    fd = _FDS.get(path)
    if fd is not None:
        return fd
    try:
        opened = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    with _FDS_LOCK:
        fd = _FDS.setdefault(path, opened)
    if fd != opened:
        os.close(opened)
    return fd


class Silence:
    """One wait for bytes: :meth:`heard` on every byte, :meth:`over` when to give up.

    ``busy_clock`` is the CPU seconds of this process's other threads (the waiting one
    excluded: it only polls its port): an emulated meter served from the harness's own
    process waits for the interpreter's lock, not for a CPU, while another of its threads
    works, which the kernel's stall figures do not count; so a silence during which the
    process's other threads kept working for over ``STALL_SHARE`` of it is not judged early
    either."""

    def __init__(self, device_s: float, floor_s: float, stall_clock: StallClock = cpu_stall_s,
                 clock: Callable[[], float] = time.monotonic,
                 busy_clock: Callable[[], float] | None = None) -> None:
        self.device_s = device_s  # the device's own timeout, scaled
        self.floor_s = max(device_s, floor_s)  # what a silence lasts at most (a busy host)
        self._stall_clock = stall_clock
        self._clock = clock
        self._busy_clock = busy_clock or others_cpu_s
        self._adaptive = self.floor_s > self.device_s
        # The host's and the process's figures are taken again at most this often: an answer
        # comes in many pieces. A silence then counts from older figures, so it may count
        # more CPU than its own (the safe side: it waits longer), never less.
        self._refresh_s = STALL_SHARE * device_s / 2
        self._taken = -math.inf
        self._stall_at: float | None = None
        self._busy_at = 0.0
        self.heard()

    def heard(self) -> None:
        """Bytes came: the silence starts again."""
        self._since = now = self._clock()
        if self._adaptive and now - self._taken >= self._refresh_s:
            self._taken = now
            self._stall_at = self._stall_clock()
            self._busy_at = self._busy_clock()

    @property
    def waited_s(self) -> float:
        """How long the port has been silent."""
        return self._clock() - self._since

    def over(self) -> bool:
        """Whether the silence is the device's: past the device's timeout on a host whose tasks
        hardly waited for a CPU meanwhile and a process that hardly worked meanwhile, else past
        the floor (further on a saturated host)."""
        quiet = self.waited_s
        if quiet <= self.device_s:
            return False
        share = self.stall_share()
        if quiet <= self.floor_s:
            if share is None or share > STALL_SHARE:
                return False
            return self._busy_clock() - self._busy_at <= STALL_SHARE * quiet
        return not (share is not None and share > SATURATED_SHARE
                    and quiet <= self.floor_s * SATURATED_FACTOR)

    def stall_share(self) -> float | None:
        """The share of this silence the host's tasks waited for a CPU; None if unknown."""
        if self._stall_at is None:
            return None
        stall, quiet = self._stall_clock(), self.waited_s
        if stall is None or quiet <= 0:
            return None
        return (stall - self._stall_at) / quiet

    def host_note(self) -> str:
        """For a timeout's message: how busy the host was, when that may be why."""
        share = self.stall_share()
        if share is None or share <= STALL_SHARE:
            return ""
        return f" (the host's tasks waited for a CPU {min(share, 1.0):.0%} of that silence)"


class MessageWait:
    """One whole message's wait, as every receive of the meter's bytes keeps it: bounded by
    ``limit_s`` however the bytes trickle in (a peer that never stops sending), and judged
    silent by a :class:`Silence` started at the first wait, since an answer already in (an
    in-process emulated meter's) needs no judging and asking the host's figures first cost a
    fast-bench read its width."""

    def __init__(self, limit_s: float, silence: Callable[[], Silence],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._start = clock()
        self._until = self._start + limit_s
        self._new_silence = silence
        self._clock = clock
        self.silence: Silence | None = None

    def over(self) -> bool:
        """Whether to give up: past the limit, or silent for the device's (or host's) time."""
        return self._clock() > self._until or (self.silence is not None and self.silence.over())

    def read_timeout(self) -> float:
        """How long the next read may wait: not at all until a read found nothing."""
        return 0.0 if self.silence is None else min(0.05, self.silence.device_s)

    def idle(self) -> None:
        """A read found nothing: the silence starts, if it had not."""
        if self.silence is None:
            self.silence = self._new_silence()

    def heard(self) -> None:
        """Bytes came: any silence starts again."""
        if self.silence is not None:
            self.silence.heard()

    @property
    def waited_s(self) -> float:
        """How long the port has been silent (since the wait began, before any silence)."""
        if self.silence is None:
            return self._clock() - self._start
        return self.silence.waited_s

    def host_note(self) -> str:
        """For a timeout's message: how busy the host was, when that may be why."""
        return "" if self.silence is None else self.silence.host_note()
