"""Last-resort guards for the emulated servers: hostile bytes end one connection, never a server.

An exception that escapes a connection handler (a bug: every expected bad input has its own
protocol answer) is logged with its traceback and reported to the hooks added with
:func:`add_error_hook` (the fuzz campaign counts them), and only that connection is closed.

:class:`OneHostPort` is the accept loop of a port that, like a serial line, has one host at a
time.  Policy: the newest connection takes over; the previous host's connection is shut down
(a clear TCP close, as ser2net's ``kickolduser``), so an idle or stalled client can never lock
others out.  Each host is served on its own thread, so the accept loop never waits on a host.
"""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import socketserver
import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

__all__ = ["BoundedClients", "ErrorHook", "OneHostPort", "add_error_hook",
           "remove_error_hook", "report_unexpected"]

log = logging.getLogger("meterbench.emulator.guard")

ErrorHook = Callable[[str, BaseException], None]
"""Called with (server name, exception) for every exception a guard caught."""

_HOOKS: list[ErrorHook] = []
_HOOKS_LOCK = threading.Lock()


def add_error_hook(hook: ErrorHook) -> None:
    """Have ``hook`` called for every unexpected exception a server guard catches."""
    with _HOOKS_LOCK:
        _HOOKS.append(hook)


def remove_error_hook(hook: ErrorHook) -> None:
    """Stop calling ``hook``; unknown hooks are ignored."""
    with _HOOKS_LOCK, contextlib.suppress(ValueError):
        _HOOKS.remove(hook)


def report_unexpected(server: str, exc: BaseException) -> None:
    """Log an exception that escaped into a server's loop, and tell the hooks."""
    log.error("emulated %s: unexpected %s: %s (connection closed, server keeps serving)",
              server, type(exc).__name__, exc, exc_info=exc)
    with _HOOKS_LOCK:
        hooks = list(_HOOKS)
    for hook in hooks:
        try:
            hook(server, exc)
        except Exception:  # a broken hook must not take the server down either
            log.exception("server error hook failed")


_Request = socket.socket | tuple[bytes, socket.socket]
"""What ``socketserver`` calls a request (a TCP server's is its connected socket)."""


class BoundedClients(socketserver.ThreadingMixIn):
    """A thread per client, as ``ThreadingMixIn`` (put it first among a server's bases), but at
    most ``max_clients`` at once, one more closed straight away; an exception out of a
    client's handler is counted (:func:`report_unexpected`), a lost client only logged.
    A server sets ``request_queue_size`` (its listen backlog) to ``max_clients`` too."""

    max_clients = 32
    server_label = "server"
    daemon_threads = True
    allow_reuse_address = True
    _slots: threading.BoundedSemaphore | None = None

    if TYPE_CHECKING:  # BaseServer's, which the server this is mixed into has
        def shutdown_request(self, request: _Request) -> None: ...

    def _client_slots(self) -> threading.BoundedSemaphore:
        if self._slots is None:
            self._slots = threading.BoundedSemaphore(self.max_clients)
        return self._slots

    def process_request(self, request: _Request, client_address: Any) -> None:
        """A thread per client, at most ``max_clients``; one more is closed straight away."""
        if not self._client_slots().acquire(blocking=False):
            log.warning("emulated %s: more than %d clients, connection closed",
                        self.server_label, self.max_clients)
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: _Request, client_address: Any) -> None:
        """Serve one client, then free its slot."""
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._client_slots().release()

    def handle_error(self, request: object, client_address: object) -> None:
        """An exception out of a client's handler: counted and logged, that client closed."""
        exc = sys.exc_info()[1]
        if isinstance(exc, OSError):
            log.debug("%s client %s ended: %s", self.server_label, client_address, exc)
        elif exc is not None:
            report_unexpected(self.server_label, exc)


def close_quietly(sock: socket.socket) -> None:
    """Shut a connection down both ways (wakes its reader and writer) and close it."""
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()


Serve = Callable[[socket.socket], None]


class OneHostPort:
    """Listeners of one emulated serial port; the newest connection takes the port over."""

    def __init__(self, name: str, listeners: list[tuple[socket.socket, Serve]],
                 poll_s: float = 0.05) -> None:
        self.name = name
        self._listeners = dict(listeners)
        self.poll_s = poll_s
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._host: tuple[socket.socket, threading.Thread] | None = None
        self._thread: threading.Thread | None = None
        self.takeovers = 0

    def start(self) -> None:
        """Accept hosts on a background thread."""
        self._thread = threading.Thread(target=self._accept_loop, daemon=True,
                                        name=f"{self.name}-accept")
        self._thread.start()

    def stop(self) -> None:
        """Stop listening and drop the connected host; safe to call twice."""
        self._stop.set()
        for sock in self._listeners:
            with contextlib.suppress(OSError):
                sock.close()
        self._evict()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None

    def _evict(self) -> None:
        """Close the current host's connection and wait (briefly) for its thread to end."""
        with self._lock:
            host, self._host = self._host, None
        if host is None:
            return
        sock, thread = host
        with contextlib.suppress(OSError):  # wakes its thread, which then closes the socket
            sock.shutdown(socket.SHUT_RDWR)
        thread.join(timeout=2)
        if thread.is_alive():
            log.warning("emulated %s: previous host's thread did not end within 2 s", self.name)
            close_quietly(sock)

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                readable, _, _ = select.select(list(self._listeners), [], [], self.poll_s)
            except (OSError, ValueError):
                if self._stop.is_set():
                    return
                time.sleep(self.poll_s)  # a listener closed under us: stop() is coming
                continue
            for listener in readable:
                try:
                    client, _ = listener.accept()
                except OSError as exc:  # e.g. the client reset before accept, or EMFILE
                    if self._stop.is_set():
                        return
                    log.debug("emulated %s: accept failed: %s", self.name, exc)
                    time.sleep(self.poll_s)
                    continue
                self._take_over(client, self._listeners[listener])

    def _take_over(self, client: socket.socket, serve: Serve) -> None:
        if self._host is not None:
            self.takeovers += 1
            log.info("emulated %s: a new host connected; the previous one is disconnected",
                     self.name)
        self._evict()
        with contextlib.suppress(OSError):
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        thread = threading.Thread(target=self._run, args=(client, serve), daemon=True,
                                  name=f"{self.name}-host")
        with self._lock:
            self._host = (client, thread)
        thread.start()

    def _run(self, client: socket.socket, serve: Serve) -> None:
        try:
            serve(client)
        except OSError as exc:
            log.debug("emulated %s: host connection ended: %s", self.name, exc)
        except Exception as exc:
            report_unexpected(self.name, exc)
        finally:
            close_quietly(client)
            with self._lock:
                if self._host is not None and self._host[0] is client:
                    self._host = None
