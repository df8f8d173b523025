"""The emulated DCC on the wire: DUIS over HTTP (or HTTPS) on loopback, at DCC Boxed's paths.

DCC Boxed takes DUIS requests by POST at ``/api/v1/serviceD`` (non-device service),
``/api/v1/serviceS`` (send command) and ``/api/v1/serviceT`` (transform), with
``Content-Type: application/xml`` (SmartDCCInnovation/dccboxed-nodered-nodes,
dccboxed-send.ts); so does this server.  Every DUIS answer, success or error, is HTTP 200
with the ``sr:Response`` document (the DUIS response code says what happened); HTTP errors
are kept for what is not DUIS at all (unknown path 404, wrong method 405, no or oversized
body 411/413).  ``GET /`` names the service in plain text (what a driver's identify reads).
``POST /emulator/endpoint`` (emulator only, not DUIS) registers a user's receiving endpoint
(``delivery.py``).

Hostile input: a body over :data:`MAX_REQUEST_BYTES` is refused unread with HTTP 413 and a
DUIS-style ``sr:Response`` (EMB01) and the connection is closed; a request the server itself
fails on gets HTTP 500 with an EMB90 response (logged and counted by
:mod:`harness.emulator.guard`); each client has its own thread with a 30 s read timeout, at
most :data:`MAX_CLIENTS` at once (more are closed straight away); under TLS the handshake
happens on the client's thread, so a client that never sends its hello holds up nobody.
"""

from __future__ import annotations

import contextlib
import logging
import ssl
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from harness.emulator.dcc.delivery import REGISTRATION_PATH
from harness.emulator.dcc.service import INTERNAL_ERROR, WEB_SERVICES
from harness.emulator.guard import BoundedClients, report_unexpected
from harness.protocols.duis import DuisError, ServiceResponse, build_response
from harness.protocols.duis.codes import MALFORMED

__all__ = ["IDENTITY", "MAX_CLIENTS", "MAX_REQUEST_BYTES", "DccHttpServer"]

log = logging.getLogger("meterbench.emulator.dcc")

IDENTITY = "meterbench emulated DCC (DUIS over HTTP, DCC Boxed paths)"
MAX_REQUEST_BYTES = 1024 * 1024
"""Largest DUIS request body read (real ones are a few kB; certificates at most tens)."""
MAX_CLIENTS = 64
"""Concurrent connections served; one more is closed at once."""

Answer = Callable[[bytes, str], ServiceResponse]
Register = Callable[[bytes], tuple[int, str]]


class _Handler(BaseHTTPRequestHandler):
    """One HTTP exchange; ``server.answer`` does the DUIS work."""

    server: _Server
    protocol_version = "HTTP/1.1"
    timeout = 30  # seconds a client may take to send its request
    server_version = "meterbench-dcc/1"

    def log_message(self, format: str, *args: object) -> None:
        """HTTP access lines go to the debug log, not stderr."""
        log.debug("%s " + format, self.address_string(), *args)

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        """One complete HTTP response."""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _duis_error(self, status: int, code: str, text: str) -> None:
        """An HTTP error whose body is a DUIS-style ``sr:Response`` saying why."""
        response = ServiceResponse.from_error(DuisError(text, response_code=code))
        self._send(status, build_response(response), "application/xml")

    def setup(self) -> None:
        """Read timeout first, then (under TLS) the handshake, on this client's own thread."""
        super().setup()
        if isinstance(self.connection, ssl.SSLSocket):
            self.connection.do_handshake()

    def _text(self, status: int, text: str) -> None:
        """A plain-text HTTP response."""
        self._send(status, (text + "\n").encode(), "text/plain; charset=utf-8")

    def do_GET(self) -> None:
        """``/`` names the service; a service path wants POST; anything else is 404."""
        if self.path in ("/", ""):
            paths = ", ".join(WEB_SERVICES)
            self._text(200, f"{IDENTITY}: POST DUIS requests to {paths}")
        elif self.path in WEB_SERVICES:
            self.send_response(405)
            self.send_header("Allow", "POST")
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self._text(404, f"no such service: {self.path}")

    def do_POST(self) -> None:
        """A DUIS request: read it whole, answer with the DUIS response (HTTP 200)."""
        try:
            self._post()
        except OSError:
            raise  # the client went away: nothing to answer
        except Exception as exc:  # a bug in the emulator: answer, count, keep serving
            report_unexpected("DCC (HTTP)", exc)
            self._duis_error(500, INTERNAL_ERROR, f"the emulated DCC failed: "
                             f"{type(exc).__name__}: {exc}")
            self.close_connection = True

    def _post(self) -> None:
        registering = self.path == REGISTRATION_PATH and self.server.register is not None
        if self.path not in WEB_SERVICES and not registering:
            self._text(404, f"no such service: {self.path} (known: {', '.join(WEB_SERVICES)})")
            return
        length_text = self.headers.get("Content-Length")
        length_text = (length_text or "").strip()
        if not (length_text.isascii() and length_text.isdigit()):
            self._text(411, "a DUIS request needs a Content-Length")
            self.close_connection = True  # where its body ends is unknown
            return
        length = int(length_text) if len(length_text) < 16 else MAX_REQUEST_BYTES + 1
        if length > MAX_REQUEST_BYTES:
            self._duis_error(413, MALFORMED, f"request of {length} bytes exceeds the "
                             f"emulated DCC's limit of {MAX_REQUEST_BYTES} bytes")
            self.close_connection = True  # the body is never read
            return
        data = self.rfile.read(length)
        if registering:
            assert self.server.register is not None
            status, text = self.server.register(data)
            if status == 204:
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()
            else:
                self._text(status, text)
            return
        response = self.server.answer(data, self.path)
        self._send(200, build_response(response), "application/xml")


class _Server(BoundedClients, ThreadingHTTPServer):
    """A threading HTTP server that knows its DUIS ``answer`` hook; at most MAX_CLIENTS."""

    max_clients = MAX_CLIENTS
    server_label = "DCC (HTTP)"
    request_queue_size = MAX_CLIENTS

    def __init__(self, address: tuple[str, int], answer: Answer,
                 register: Register | None = None) -> None:
        super().__init__(address, _Handler)
        self.answer = answer
        self.register = register


class DccHttpServer:
    """A loopback HTTP(S) listener that hands each DUIS request to ``answer``."""

    def __init__(self, answer: Answer, host: str = "127.0.0.1", port: int = 0,
                 tls: ssl.SSLContext | None = None, register: Register | None = None) -> None:
        self._server = _Server((host, port), answer, register)
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True,
                                                  do_handshake_on_connect=False)
        self.host = host
        self.scheme = "https" if tls is not None else "http"
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The TCP port listened on."""
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (what a DCC adapter is given as its base URL)."""
        return f"{self.scheme}://{self.host}:{self.port}"

    def start(self) -> None:
        """Serve on a background thread."""
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name="dcc-emulator", kwargs={"poll_interval": 0.05})
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the socket; safe to call twice."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=2)
            self._thread = None
        with contextlib.suppress(OSError):
            self._server.server_close()
