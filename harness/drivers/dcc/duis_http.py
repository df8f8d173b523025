"""DUIS over HTTP(S) with the standard library: a DCC test environment, DCC Boxed, the emulator.

The instrument's address is the base URL (``https://dcc-test.example:8443`` or the emulated
``http://127.0.0.1:PORT``); requests go to ``/api/v1/service{D,S,T}`` below it.  For HTTPS,
bench options ``ca_file`` (a path or secret reference: the CA that signs the server's
certificate; default the system's), ``client_certificate`` and ``client_key`` (mutual TLS,
the key by secret reference) and ``verify_tls`` (default true).

Failure while connecting or sending is reported as not delivered; failure after the whole
request was sent (timeout, connection closed, malformed HTTP) as uncertain; an HTTP status
other than 200 is an operation error (the DCC refused at the HTTP layer).

Receiving endpoint: for an emulated DCC (``emulated = true``, or option
``register_receiver``) the adapter registers its URL for the signing user by POSTing
``{"user_id": ..., "url": ...}`` to ``/emulator/endpoint`` (emulator only, not DUIS).
"""

from __future__ import annotations

import http.client
import json
import ssl
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from harness.config.secrets import is_reference
from harness.drivers.dcc.base import NotDelivered, Uncertain
from harness.drivers.dcc.service_requests import ServiceRequestAdapter
from harness.errors import BenchConfigError, InstrumentConnectError, OperationError

__all__ = ["DuisHttpAdapter"]


class DuisHttpAdapter(ServiceRequestAdapter):
    """A DCC adapter speaking DUIS over HTTP or HTTPS (http.client, one connection per request)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._scheme = ""
        self._host = ""
        self._port = 0
        self._prefix = ""
        self._tls: ssl.SSLContext | None = None

    # -- link ----------------------------------------------------------------------------------

    def _open_link(self) -> None:
        """Split the base URL; build the TLS context for https."""
        parts = urlsplit(self.address)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise BenchConfigError(f"{self.name}: address {self.address!r} is not an http(s) "
                                   "base URL", key_path=f"instruments.{self.name}.address",
                                   expected="http://host:port or https://host:port")
        self._scheme, self._host = parts.scheme, parts.hostname
        self._port = parts.port or (443 if parts.scheme == "https" else 80)
        self._prefix = parts.path.rstrip("/")
        self._tls = self._tls_context() if parts.scheme == "https" else None

    def _secret_or_path(self, key: str) -> str | None:
        """An option that may be a secret reference (its value, resolved by the bench) or a
        plain value."""
        value = self.option(key, None)
        if value is None:
            return None
        text = str(value)
        if is_reference(text):
            if key not in self.secrets:
                raise BenchConfigError(f"{self.name}: the secret reference of {key} was not "
                                       "resolved (the bench resolves secret references)",
                                       key_path=f"instruments.{self.name}.options.{key}")
            return self.secrets[key]
        return text

    def _tls_context(self) -> ssl.SSLContext:
        """Server verification (``ca_file``, ``verify_tls``) and the client pair."""
        context = ssl.create_default_context()
        ca = self._secret_or_path("ca_file")
        if ca is not None:
            if ca.lstrip().startswith("-----BEGIN"):
                context.load_verify_locations(cadata=ca)
            else:
                context.load_verify_locations(cafile=ca)
        if not bool(self.option("verify_tls", True)):
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        cert = self.option("client_certificate", None)
        if cert is not None:
            key = self._secret_or_path("client_key")
            self._load_client_pair(context, str(cert), key)
        return context

    def _load_client_pair(self, context: ssl.SSLContext, cert: str, key: str | None) -> None:
        """Mutual TLS: the client certificate (a path) and its key (a path or PEM text)."""
        if key is None or not key.lstrip().startswith("-----BEGIN"):
            context.load_cert_chain(cert, key)
            return
        with tempfile.TemporaryDirectory(prefix="meterbench-dcc-") as folder:
            key_file = Path(folder, "client.key")
            key_file.touch(mode=0o600)
            key_file.write_text(key)
            context.load_cert_chain(cert, key_file)

    def _close_internal(self) -> None:
        """Drop the TLS context (connections never outlive a request); stop receiving."""
        self._tls = None
        super()._close_internal()

    def _connection(self, timeout: float) -> http.client.HTTPConnection:
        """A new HTTP(S) connection with ``timeout``."""
        if self._scheme == "https":
            return http.client.HTTPSConnection(self._host, self._port, timeout=timeout,
                                               context=self._tls)
        return http.client.HTTPConnection(self._host, self._port, timeout=timeout)

    # -- exchange ------------------------------------------------------------------------------

    def _post(self, path: str, body: bytes, *, connect_timeout: float,
              response_timeout: float) -> bytes:
        """One POST: connect and send (NotDelivered on failure), then read (Uncertain)."""
        conn = self._connection(connect_timeout)
        try:
            try:
                conn.connect()
                conn.sock.settimeout(response_timeout)
                conn.request("POST", self._prefix + path, body=body,
                             headers={"Content-Type": "application/xml"})
            except ssl.SSLCertVerificationError as exc:  # sending again cannot help
                raise InstrumentConnectError(f"{self.name}: {self.address}: {exc}",
                                             instrument=self.name) from None
            except (OSError, http.client.HTTPException) as exc:
                raise NotDelivered(f"{type(exc).__name__}: {exc}") from exc
            try:
                response = conn.getresponse()
                data = response.read()
            except (OSError, http.client.HTTPException) as exc:
                raise Uncertain(f"{type(exc).__name__}: {exc}") from exc
        finally:
            conn.close()
        if response.status != 200:
            text = data[:200].decode("utf-8", "replace").strip()
            raise OperationError(f"{self.name}: HTTP {response.status} {response.reason} from "
                                 f"{self.address}{path}: {text}", instrument=self.name,
                                 status=response.status)
        return data

    def _register_receiver(self, user_id: str, url: str) -> None:
        """Tell an emulated DCC (only) where ``user_id``'s responses and alerts go."""
        if not bool(self.option("register_receiver", self.config.emulated)):
            return
        body = json.dumps({"user_id": user_id, "url": url}).encode()
        conn = self._connection(self.config.timeout_s)
        try:
            conn.request("POST", self._prefix + "/emulator/endpoint", body=body,
                         headers={"Content-Type": "application/json"})
            response = conn.getresponse()
            text = response.read(400).decode("utf-8", "replace").strip()
        except (OSError, http.client.HTTPException) as exc:
            raise InstrumentConnectError(f"{self.name}: cannot register the receiving "
                                         f"endpoint with {self.address}: {exc}",
                                         instrument=self.name) from None
        finally:
            conn.close()
        if response.status != 204:
            raise OperationError(f"{self.name}: {self.address}/emulator/endpoint refused "
                                 f"{url} for {user_id}: HTTP {response.status} {text}",
                                 instrument=self.name, status=response.status)

    def _identify_internal(self) -> str:
        """``GET /``: who answers at the base URL, and as which user we sign."""
        conn = self._connection(self.config.timeout_s)
        try:
            conn.request("GET", self._prefix + "/")
            response = conn.getresponse()
            first = response.read(400).decode("utf-8", "replace").strip().splitlines()
        except (OSError, http.client.HTTPException) as exc:
            raise InstrumentConnectError(f"{self.name}: no HTTP answer from {self.address}: "
                                         f"{exc}", instrument=self.name) from None
        finally:
            conn.close()
        server = response.getheader("Server") or "unknown server"
        user = self.credentials.duis_id if self.credentials else "no user yet"
        text = first[0] if first else ""
        return (f"DUIS endpoint {self.address} (HTTP {response.status}, {server}"
                f"{': ' + text if text else ''}); user {user}")
