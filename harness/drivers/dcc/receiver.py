"""The DCC user's own receiving endpoint: where a DCC POSTs device responses and alerts.

A real DCC answers a device request with I99 and later POSTs the device's response, and any
alert, to the endpoint the user registered with it out of band (DCC Boxed: its receiving
node's configurable ``responseEndpoint``, answering 204 to a valid DUIS message and 400
otherwise: SmartDCCInnovation/dccboxed-nodered-nodes, src/dccboxed-config.ts).  This is that
endpoint: a stdlib ThreadingHTTPServer taking POSTs at any path, keeping what it parsed
(bounded, thread-safe) for :meth:`DuisReceiver.wait_for_response` and the alert queries.

Nothing is kept unless it is signed by a ``trusted`` DCC certificate (``signing.verify``), and
a response only if it answers a RequestID the adapter said it awaits (:meth:`expect`); the
rest is refused with 400 and kept apart in ``refused``.  Bodies are bounded (``max_body``).
With a ``tls`` context (mutual TLS: the context requires the DCC's client certificate) each
connection is wrapped in its own thread, so a slow handshake holds up no other sender.
"""

from __future__ import annotations

import contextlib
import logging
import ssl
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography import x509

from harness.protocols.digits import ascii_int
from harness.protocols.duis import DuisAlert, DuisError, ServiceResponse, parse_message, verify

__all__ = ["MAX_BODY_BYTES", "DuisReceiver", "Received", "Refused"]

log = logging.getLogger("meterbench.drivers.dcc")

MAX_BODY_BYTES = 2 * 1024 * 1024
"""Largest POST the endpoint reads by default (a DUIS response or alert is far smaller)."""

HANDSHAKE_TIMEOUT_S = 5.0
"""How long a TLS client may take to complete its handshake."""


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
    timeout = 10  # seconds a sender may stall mid-request before it is dropped
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
        limit = self.server.owner.max_body
        length = ascii_int(length_text.strip(), 12)
        if length is None or length > limit:
            shown = length_text[:20] or "missing"
            reason = f"Content-Length {shown} (at most {limit})"
            status = 411 if length is None else 413
            self.server.owner.refuse(reason, b"", status)
            self.close_connection = True
            self._reply(status, reason)
            return
        data = self.rfile.read(length)
        refusal = self.server.owner.accept(data, f"POST {self.path[:200]} from "
                                                 f"{self.client_address[0]}")
        if refusal is None:
            self._reply(204)
        else:
            self._reply(400, refusal)


class _Server(ThreadingHTTPServer):
    """The HTTP server, knowing the receiver that keeps what arrives."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], owner: DuisReceiver,
                 tls: ssl.SSLContext | None) -> None:
        super().__init__(address, _Handler)
        self.owner = owner
        self.tls = tls

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        """In the connection's own thread: the TLS handshake (client certificate required by
        the context), then the HTTP exchange; a failed handshake is refused and logged."""
        if self.tls is not None:
            try:
                request.settimeout(HANDSHAKE_TIMEOUT_S)
                request = self.tls.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError) as exc:
                self.owner.refuse(f"TLS handshake with {client_address[0]} failed: {exc}",
                                  b"", 0)
                with contextlib.suppress(OSError):
                    request.close()
                return
        super().process_request_thread(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A connection that failed mid-exchange is logged, never printed to stderr."""
        log.debug("receiver: connection from %s failed", client_address, exc_info=True)


class DuisReceiver:
    """Listens for the DCC's POSTs; keeps the last ``limit`` responses, alerts and refusals.

    ``record(direction, data)`` (the adapter's transcript) hears every body received ("<")
    and the HTTP status answered (">").
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, limit: int = 1000,
                 record: Callable[[str, bytes], None] | None = None,
                 trusted: Iterable[x509.Certificate] = (), tls: ssl.SSLContext | None = None,
                 max_body: int = MAX_BODY_BYTES) -> None:
        self._server = _Server((host, port), self, tls)
        self.host = host
        self.limit = limit
        self.max_body = max_body
        self.tls = tls
        self._record = record
        self._trusted = list(trusted)
        self._expected: OrderedDict[str, None] = OrderedDict()
        self._responses: OrderedDict[str, Received] = OrderedDict()
        self._alerts: deque[Received] = deque(maxlen=limit)
        self.refused: deque[Refused] = deque(maxlen=limit)
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None

    def set_trusted(self, certificates: Iterable[x509.Certificate]) -> None:
        """The DCC signing certificates a posted message must be signed with."""
        with self._changed:
            self._trusted = list(certificates)

    def expect(self, request_id: str) -> None:
        """A request is on its way: keep a response posted for ``request_id``."""
        with self._changed:
            self._expected[request_id] = None
            while len(self._expected) > self.limit:
                self._expected.popitem(last=False)

    @property
    def url(self) -> str:
        """``http(s)://HOST:PORT/`` (what the DCC is told to post to)."""
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://{self.host}:{self._server.server_address[1]}/"

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
        """Check and keep one posted body; the reason it is refused, or None."""
        if self._record is not None:
            self._record("<", data)
        reason = self._check(data, source)
        if isinstance(reason, str):
            self.refuse(reason, data)
            return reason
        message = reason
        if self._record is not None:
            self._record(">", b"HTTP 204 No Content")
        item = Received(time.time(), message)
        with self._changed:
            if isinstance(message, DuisAlert):
                self._alerts.append(item)
            else:
                key = str(message.request_id)
                self._expected.pop(key, None)
                self._responses[key] = item
                while len(self._responses) > self.limit:
                    self._responses.popitem(last=False)
            self._changed.notify_all()
        log.info("DCC posted %s", _describe(message))
        return None

    def _check(self, data: bytes, source: str) -> ServiceResponse | DuisAlert | str:
        """The message if it is DUIS, signed by a trusted DCC certificate and (a response)
        awaited; otherwise the reason to refuse it."""
        try:
            message = parse_message(data, source=source)
        except DuisError as exc:
            return f"not a DUIS response or alert: {exc}"
        with self._changed:
            trusted = list(self._trusted)
        if not trusted:
            return ("no DCC signing certificate is configured (option dcc_certificate): "
                    "nothing posted can be trusted")
        try:
            verify(data, trusted, source=source)
        except DuisError as exc:
            return f"not signed by the DCC: {exc}"
        if isinstance(message, ServiceResponse):
            key = str(message.request_id) if message.request_id else None
            with self._changed:
                awaited = key is not None and key in self._expected
            if not awaited:
                return f"no request awaits a response with RequestID {key}"
        return message

    def refuse(self, reason: str, data: bytes, status: int = 400) -> None:
        """Keep a refused POST (its first 2 KiB), record the refusal and log it (status 0:
        refused before HTTP, at the TLS handshake)."""
        log.warning("DCC receiving endpoint refused a POST: %s", reason)
        if self._record is not None:
            answer = f"HTTP {status} {reason}" if status else f"TLS refused: {reason}"
            self._record(">", answer.encode())
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
