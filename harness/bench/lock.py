"""One owner per bench: an advisory file lock named after the bench, with who holds it.

``fcntl.flock`` is released by the kernel when the holder dies (kill -9 included), so a
crashed run never leaves a stale lock; the lock file also records the holder's pid, host
and start time so a second run can say who is in the way.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from pathlib import Path
from typing import Self

from harness.errors import BenchLockedError


def lock_dir() -> Path:
    """Where bench locks live: ``$MB_LOCK_DIR``, else ``$XDG_RUNTIME_DIR``/tmp ``meterbench``."""
    base = os.environ.get("MB_LOCK_DIR")
    if base:
        return Path(base)
    runtime = os.environ.get("XDG_RUNTIME_DIR") or "/tmp"
    return Path(runtime) / f"meterbench-{os.getuid()}" / "locks"


class BenchLock:
    """An exclusive, non-blocking lock on one bench name."""

    def __init__(self, bench_name: str, directory: Path | None = None) -> None:
        self.bench_name = bench_name
        self.path = (directory or lock_dir()) / f"{bench_name}.lock"
        self._fd: int | None = None

    def acquire(self, purpose: str = "") -> Self:
        """Take the lock at once or raise BenchLockedError naming the holder."""
        if self._fd is not None:
            return self
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            holder = self.holder() or {}
            since = holder.get("since")
            when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(since)) if (
                isinstance(since, int | float) and since) else "?"
            raise BenchLockedError(
                f"bench {self.bench_name!r} is in use by pid {holder.get('pid', '?')} on "
                f"{holder.get('host', '?')} since {when}"
                + (f" ({holder['purpose']})" if holder.get("purpose") else ""),
                bench=self.bench_name,
                holder=holder,
                lock_file=str(self.path),
            ) from None
        info = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.time(),
                "purpose": purpose}
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps(info).encode())
        os.fsync(fd)
        self._fd = fd
        return self

    def release(self) -> None:
        """Give the lock up; safe to call twice."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self._fd is not None

    def holder(self) -> dict[str, object] | None:
        """Who holds the lock, as recorded in the lock file (None if nobody wrote it)."""
        try:
            text = self.path.read_text()
        except OSError:
            return None
        try:
            return json.loads(text) if text.strip() else None
        except json.JSONDecodeError:
            return None

    def __enter__(self) -> Self:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
