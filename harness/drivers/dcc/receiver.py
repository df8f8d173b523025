"""The DCC user's own receiving endpoint: where a DCC POSTs device responses and alerts.

A real DCC answers a device request with I99 and later POSTs the device's response, and any
alert, to the endpoint the user registered with it out of band (DCC Boxed: its receiving
node's configurable ``responseEndpoint``, answering 204 to a valid DUIS message and 400
otherwise: SmartDCCInnovation/dccboxed-nodered-nodes, src/dccboxed-config.ts).  This is that
endpoint: a stdlib ThreadingHTTPServer taking POSTs at any path, keeping what it parsed
(bounded, thread-safe) for :meth:`DuisReceiver.wait_for_response` and the alert queries.
Signatures on what is received are not checked.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from harness.protocols.duis import DuisAlert, DuisError, ServiceResponse, parse_message

__all__ = ["MAX_BODY_BYTES", "DuisReceiver", "Received", "Refused"]

log = logging.getLogger("meterbench.drivers.dcc")

MAX_BODY_BYTES = 16 * 1024 * 1024
"""Largest POST the endpoint reads."""


@dataclass(frozen=True)
class Received:
    """One message the DCC posted: when (``time.time()``), and what."""

    t: float
    message: ServiceResponse | DuisAlert


@dataclass(frozen=True)
class Refused:
    """One POST refused (HTTP 400 or 411/413): when, why, and its first bytes."""

    t: float
    reason: str
    data: bytes


class _Handler(BaseHTTPRequestHandler):
    """One POST from the DCC: parse, keep, answer 204 (or 400 with the reason)."""

    server: _Server
    protocol_version = "HTTP/1.1"
    timeout = 30
    server_version = "meterbench-dcc-receiver/1"

    def log_message(self, format: str, *args: object) -> None:
        """HTTP access lines go to the debug log, not stderr."""
        log.debug("receiver %s " + format, self.address_string(), *args)

    def _reply(self, status: int, text: str = "") -> None:
        """A complete response (plain text, or empty for 204)."""
        body = (text + "\n").encode() if text else b""
        self.send_response(status)
        if body:
            self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        """Accept a DUIS response or alert; refuse anything else, saying why."""
        length_text = self.headers.get("Content-Length", "")
        if not length_text.isdigit() or int(length_text) > MAX_BODY_BYTES:
            reason = f"Content-Length {length_text or 'missing'} (at most {MAX_BODY_BYTES})"
            status = 411 if not length_text.isdigit() else 413
            self.server.owner.refuse(reason, b"", status)
            self.close_connection = True
            self._reply(status, reason)
            return
        data = self.rfile.read(int(length_text))
        reason = self.server.owner.accept(data, f"POST {self.path} from {self.client_address[0]}")
        if reason is None:
            self._reply(204)
        else:
            self._reply(400, reason)


class _Server(ThreadingHTTPServer):
    """The HTTP server, knowing the receiver that keeps what arrives."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], owner: DuisReceiver) -> None:
        super().__init__(address, _Handler)
        self.owner = owner


class DuisReceiver:
    """Listens for the DCC's POSTs; keeps the last ``limit`` responses, alerts and refusals.

    ``record(direction, data)`` (the adapter's transcript) hears every body received ("<")
    and the HTTP status answered (">").
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, limit: int = 1000,
                 record: Callable[[str, bytes], None] | None = None) -> None:
        self._server = _Server((host, port), self)
        self.host = host
        self.limit = limit
        self._record = record
        self._responses: OrderedDict[str, Received] = OrderedDict()
        self._alerts: deque[Received] = deque(maxlen=limit)
        self.refused: deque[Refused] = deque(maxlen=limit)
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """``http://HOST:PORT/`` (what the DCC is told to post to)."""
        return f"http://{self.host}:{self._server.server_address[1]}/"

    def start(self) -> DuisReceiver:
        """Serve on a background thread."""
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name="dcc-receiver", kwargs={"poll_interval": 0.05})
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket; safe to call twice."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=2)
            self._thread = None
        with contextlib.suppress(OSError):
            self._server.server_close()

    # -- what arrives ----------------------------------------------------------------------------

    def accept(self, data: bytes, source: str) -> str | None:
        """Parse and keep one posted body; the reason it is refused, or None."""
        if self._record is not None:
            self._record("<", data)
        try:
            message = parse_message(data, source=source)
        except DuisError as exc:
            reason = f"not a DUIS response or alert: {exc}"
            self.refuse(reason, data)
            return reason
        if self._record is not None:
            self._record(">", b"HTTP 204 No Content")
        item = Received(time.time(), message)
        with self._changed:
            if isinstance(message, DuisAlert):
                self._alerts.append(item)
            else:
                key = str(message.request_id) if message.request_id else f"?{id(item)}"
                self._responses[key] = item
                while len(self._responses) > self.limit:
                    self._responses.popitem(last=False)
            self._changed.notify_all()
        log.info("DCC posted %s", _describe(message))
        return None

    def refuse(self, reason: str, data: bytes, status: int = 400) -> None:
        """Keep a refused POST (its first 2 KiB), record the refusal and log it."""
        log.warning("DCC receiving endpoint refused a POST: %s", reason)
        if self._record is not None:
            self._record(">", f"HTTP {status} {reason}".encode())
        with self._changed:
            self.refused.append(Refused(time.time(), reason, data[:2048]))

    # -- queries ---------------------------------------------------------------------------------

    def wait_for_response(self, request_id: str, timeout: float) -> ServiceResponse | None:
        """The response posted for ``request_id`` (taken out), waiting up to ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while request_id not in self._responses:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._changed.wait(left)
            message = self._responses.pop(request_id).message
        assert isinstance(message, ServiceResponse)
        return message

    def alerts(self, since: float | None = None) -> list[Received]:
        """Alerts received at or after ``since`` (``time.time()``), oldest first."""
        with self._changed:
            return [a for a in self._alerts if since is None or a.t >= since]

    def wait_for_alert(self, code: str, timeout: float, since: float | None = None
                       ) -> DuisAlert | None:
        """The first alert with ``code`` (received at or after ``since``), waiting up to
        ``timeout``; codes compare case-blind, a leading ``0x`` ignored."""
        wanted = _code_key(code)
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for item in self._alerts:
                    alert = item.message
                    assert isinstance(alert, DuisAlert)
                    if (since is None or item.t >= since) and _code_key(alert.code) == wanted:
                        return alert
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._changed.wait(left)


def _code_key(code: str) -> str:
    """An alert code compared case-blind, without a ``0x`` prefix."""
    text = code.strip().upper()
    return text[2:] if text.startswith("0X") else text


def _describe(message: ServiceResponse | DuisAlert) -> str:
    """One line naming a received message."""
    if isinstance(message, DuisAlert):
        return f"{message.kind} {message.code} ({message.response_id or 'no ResponseID'})"
    return f"response {message.response_code} to {message.request_id} {message.variant}"
