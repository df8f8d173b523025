"""One owner per bench: an advisory file lock named after the bench, with who holds it.

The lock is ``filelock``'s OS lock (``flock`` on POSIX, ``msvcrt.locking`` on Windows), which
the operating system releases when the holder dies (kill -9 included), so a crashed run never
leaves a stale lock. Who holds it (pid, host, start time, purpose) is written beside it in
``<bench>.holder.json`` so a second run can say who is in the way; a holder file left by a
dead run is simply overwritten by the next owner (the lock, not that file, decides).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import tempfile
import time
from pathlib import Path
from typing import Self

from filelock import FileLock, Timeout

from harness.errors import BenchLockedError

_HOLDER_WAIT_S = 0.2
"""How long a refused run waits for a new owner to write its holder file before saying '?'."""
_HELD: set[FileLock] = set()
"""Every lock this process holds: a lock is given up by release() or the process's end, never
because its BenchLock object was dropped (filelock would release it when collected)."""


def lock_dir() -> Path:
    """Where bench locks live: ``$MB_LOCK_DIR``, else ``$XDG_RUNTIME_DIR`` (or /tmp)
    ``/meterbench-<uid>/locks``; on Windows the user's temporary folder."""
    base = os.environ.get("MB_LOCK_DIR")
    if base:
        return Path(base)
    getuid = getattr(os, "getuid", None)
    if getuid is None:  # Windows: the temporary folder is the user's own already
        return Path(tempfile.gettempdir()) / "meterbench" / "locks"
    runtime = os.environ.get("XDG_RUNTIME_DIR") or "/tmp"
    return Path(runtime) / f"meterbench-{getuid()}" / "locks"


class BenchLock:
    """An exclusive, non-blocking lock on one bench name."""

    def __init__(self, bench_name: str, directory: Path | None = None) -> None:
        self.bench_name = bench_name
        folder = directory or lock_dir()
        self.path = folder / f"{bench_name}.lock"
        self.holder_path = folder / f"{bench_name}.holder.json"
        self._lock: FileLock | None = None

    def acquire(self, purpose: str = "") -> Self:
        """Take the lock at once or raise BenchLockedError naming the holder."""
        if self._lock is not None:
            return self
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self.path), thread_local=False, blocking=False)
        try:
            lock.acquire()
        except Timeout:
            holder = self._wait_for_holder()
            raise BenchLockedError(_in_use(self.bench_name, holder), bench=self.bench_name,
                                   holder=holder, lock_file=str(self.path)) from None
        self._lock = lock
        _HELD.add(lock)
        info = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.time(),
                "purpose": purpose}
        try:
            self._write_holder(info)
        except OSError:
            self.release()
            raise
        return self

    def release(self) -> None:
        """Give the lock up; safe to call twice."""
        if self._lock is None:
            return
        lock, self._lock = self._lock, None
        try:
            with contextlib.suppress(OSError):  # the holder is gone before the lock is free
                self.holder_path.unlink()
        finally:
            lock.release(force=True)
            _HELD.discard(lock)

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self._lock is not None

    def holder(self) -> dict[str, object] | None:
        """Who holds the lock, as recorded beside it (None if nobody wrote it)."""
        try:
            text = self.holder_path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None
        try:
            found = json.loads(text) if text.strip() else None
        except json.JSONDecodeError:
            return None
        return found if isinstance(found, dict) else None

    def _wait_for_holder(self) -> dict[str, object]:
        """The holder's record; a run that has just taken the lock may not have written it."""
        deadline = time.monotonic() + _HOLDER_WAIT_S
        while (holder := self.holder()) is None and time.monotonic() < deadline:
            time.sleep(0.02)
        return holder or {}

    def _write_holder(self, info: dict[str, object]) -> None:
        """Replace the holder file in one step, so a reader never sees half of it."""
        fd, temp = tempfile.mkstemp(prefix=f".{self.bench_name}.", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(info, handle)
            os.replace(temp, self.holder_path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise

    def __enter__(self) -> Self:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def _in_use(bench: str, holder: dict[str, object]) -> str:
    """The refusal: which bench, and the pid, host, start time and purpose of its holder."""
    since = holder.get("since")
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(since)) if (
        isinstance(since, int | float) and since) else "?"
    purpose = holder.get("purpose")
    return (f"bench {bench!r} is in use by pid {holder.get('pid', '?')} on "
            f"{holder.get('host', '?')} since {when}" + (f" ({purpose})" if purpose else ""))
