"""Signals while hardware is live: SIGTERM and SIGHUP stop a run as Ctrl-C does, and no
signal (a second Ctrl-C included) can interrupt the bench on its way to its safe state.

Three pieces, all acting in the main thread only (Python delivers signals there):

- :func:`shield` defers SIGINT, SIGTERM and SIGHUP while the safe state is being reached and
  re-delivers the first one afterwards (or absorbs it when the run is already stopping).
- :func:`terminate_as_interrupt` makes SIGTERM and SIGHUP raise ``KeyboardInterrupt``, for a
  command that must clean up the same way on any of them (``emulate``, ``bench check``).
- :func:`bench_opened` / :func:`bench_closed` hold the interrupt handlers on SIGINT, SIGTERM
  and SIGHUP while any bench is open: the first signal raises ``KeyboardInterrupt`` (the
  run unwinds and closes its bench), any further one is absorbed with a warning until every
  open bench has been made safe and closed; then the previous handlers come back.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

log = logging.getLogger("meterbench.safety")

EXIT_INTERRUPTED = 130
"""Exit status of a command stopped by Ctrl-C, SIGTERM or SIGHUP (128 + SIGINT, as shells say)."""

SIGNALS: tuple[signal.Signals, ...] = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))
"""The signals a run treats as "stop now, safely" (Ctrl-C, kill, a closed terminal); Windows
has no SIGHUP, so there it is the first two."""

_Handler = Callable[[int, FrameType | None], Any] | int | None


class _Signals:
    """Process-wide: open benches, whether a stop is under way, shield nesting, saved handlers."""

    def __init__(self) -> None:
        self.open_benches = 0
        self.stopping = False  # a signal has already asked the run to stop
        self.shield_depth = 0
        self.deferred: list[int] = []
        self.shield_saved: dict[int, _Handler] = {}
        self.bench_saved: dict[int, _Handler] = {}
        self.lock = threading.RLock()


_State = _Signals()


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return str(signum)


def _ours(handler: _Handler) -> bool:
    """Whether a handler may be replaced: Python's default ones (never SIG_IGN: ``nohup``)."""
    return handler in (signal.SIG_DFL, signal.default_int_handler, _interrupt)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    """The run's handler: the first signal stops the run; later ones wait for the safe state."""
    if _State.stopping and _State.open_benches:
        # A raw write: a handler must not re-enter a buffered stream the run may be writing.
        with contextlib.suppress(OSError):
            os.write(2, f"meterbench: {_name(signum)} received: making the bench safe first, "
                        "please wait\n".encode())
        return
    _State.stopping = True
    raise KeyboardInterrupt(_name(signum))


def _defer(signum: int, frame: FrameType | None) -> None:
    """The shield's handler: note the signal, act on it once the safe state is reached (no
    I/O here: the interrupted code may be in the middle of writing)."""
    _State.deferred.append(signum)


@contextlib.contextmanager
def shield() -> Iterator[None]:
    """Defer SIGINT/SIGTERM/SIGHUP for the block; afterwards re-deliver the first one deferred.

    Nested shields act as one. Outside the main thread it does nothing (signals are never
    delivered there). When the run is already stopping (a first signal is being handled),
    a deferred signal is absorbed rather than re-delivered: the stop is under way already.
    """
    if not _main_thread():
        yield
        return
    with _State.lock:
        outer = _State.shield_depth == 0
        _State.shield_depth += 1
        if outer:
            _State.deferred = []
            _State.shield_saved = {}
            for sig in SIGNALS:
                current = signal.getsignal(sig)
                if current is signal.SIG_IGN:
                    continue
                _State.shield_saved[sig] = current
                signal.signal(sig, _defer)
        at_entry = dict(_State.shield_saved)  # who would have had a signal arriving now
    inflight: BaseException | None = None
    try:
        yield
    except BaseException as exc:
        inflight = exc
        raise
    finally:
        with _State.lock:
            _State.shield_depth -= 1
            pending: int | None = None
            if outer:
                for signum, handler in _State.shield_saved.items():
                    signal.signal(signum, handler)
                _State.shield_saved = {}
                pending = _State.deferred[0] if _State.deferred else None
                _State.deferred = []
        if pending is not None:
            log.warning("%s deferred until the safe state was reached", _name(pending))
            if _State.stopping or isinstance(inflight, KeyboardInterrupt):
                log.warning("%s absorbed: the run was already stopping", _name(pending))
            else:  # as it would have been handled on arrival
                handler = at_entry.get(pending)
                if callable(handler):
                    handler(pending, None)
                else:
                    signal.raise_signal(pending)


def terminate_as_interrupt() -> None:
    """Treat SIGTERM and SIGHUP like Ctrl-C (``KeyboardInterrupt``), so the same clean-up
    (safe state) runs for all three; for the whole process (main thread only)."""
    if not _main_thread():
        return
    for sig in SIGNALS[1:]:  # SIGTERM, and SIGHUP where the platform has it
        if _ours(signal.getsignal(sig)):
            signal.signal(sig, signal.default_int_handler)


def bench_opened() -> None:
    """A bench is open: while any is, SIGINT/SIGTERM/SIGHUP stop the run as Ctrl-C does and
    a repeated signal cannot cut short the way to the safe state."""
    if not _main_thread():
        return
    with _State.lock:
        _State.open_benches += 1
        if _State.open_benches > 1:
            return
        _State.stopping = False
        _State.bench_saved = {}
        saved = _State.shield_saved if _State.shield_depth else None
        for sig in SIGNALS:
            current = saved.get(sig) if saved is not None else signal.getsignal(sig)
            if not _ours(current):
                continue
            _State.bench_saved[sig] = current
            if saved is not None:  # inside a shield: it restores ours on leaving
                saved[sig] = _interrupt
            else:
                signal.signal(sig, _interrupt)


def bench_closed() -> None:
    """A bench is closed (safe state reached): the last one gives back the previous handlers."""
    if not _main_thread():
        return
    with _State.lock:
        if _State.open_benches == 0:
            return
        _State.open_benches -= 1
        if _State.open_benches:
            return
        for sig, handler in _State.bench_saved.items():
            if _State.shield_depth:
                _State.shield_saved[sig] = handler
            elif signal.getsignal(sig) is _interrupt:
                signal.signal(sig, handler)
        _State.bench_saved = {}


def stopping() -> bool:
    """Whether a signal has asked this process to stop (reset when a new bench opens)."""
    return _State.stopping
