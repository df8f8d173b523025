"""An asyncio event loop on a background thread, for synchronous code that drives async stacks.

bleak (and bumble) are asyncio libraries, while the instrument drivers and the IEC 62056-21
client are synchronous: the drivers submit coroutines to a loop that runs on its own thread
and wait for the result with a deadline, so a stuck BLE operation never hangs the caller.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class LoopThread:
    """One event loop running forever on one daemon thread; ``run`` bridges to it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)
        self._started = threading.Event()
        self._thread.start()
        self._started.wait()

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(self._started.set)
        try:
            self.loop.run_forever()
        finally:
            self._cancel_remaining()
            self.loop.close()

    def _cancel_remaining(self) -> None:
        tasks = [t for t in asyncio.all_tasks(self.loop) if not t.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            self.loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))

    @property
    def alive(self) -> bool:
        """Whether the loop still runs (False after :meth:`stop`)."""
        return self._thread.is_alive() and not self.loop.is_closed()

    def in_loop(self) -> bool:
        """True when called from the loop's own thread (where ``run`` would deadlock)."""
        return threading.current_thread() is self._thread

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Schedule ``coro`` on the loop; a future to wait on from any other thread."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None) -> T:
        """Run ``coro`` on the loop and wait for it; TimeoutError (after cancelling) if late."""
        if self.in_loop():
            coro.close()
            raise RuntimeError(f"{self.name}: run() called from the loop's own thread")
        future = self.submit(coro)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TimeoutError(f"{self.name}: no result within {timeout} s") from None

    def call_soon(self, callback: Any, *args: Any) -> None:
        """Run a plain callback on the loop thread (thread-safe)."""
        with contextlib.suppress(RuntimeError):  # loop already closed: nothing to deliver to
            self.loop.call_soon_threadsafe(callback, *args)

    def stop(self, timeout: float = 2.0) -> None:
        """Cancel what is pending, stop the loop and join the thread; safe to call twice."""
        if self.loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):
            self.loop.call_soon_threadsafe(self.loop.stop)
        if not self.in_loop():
            self._thread.join(timeout)
