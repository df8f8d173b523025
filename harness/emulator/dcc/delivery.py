"""The emulated DCC's asynchronous path: POSTing responses and alerts to users' endpoints.

A real DCC learns each user's receiving endpoint out of band.  The emulated DCC learns it by
a POST to ``/emulator/endpoint`` with JSON ``{"user_id": "<EUI-64>", "url": "http://..."}``
(emulator only, NOT DUIS; 204 on success, 400 naming the fault).  Messages are POSTed in
order by one worker thread, each ``delay_s`` after it was queued (the DCC answers "shortly
after" its I99); a failed POST is logged and kept in ``failures``, never retried.

Every body is signed with the DCC's ``signer`` (key, certificate) before it is posted, as
the adapter's endpoint trusts only DCC-signed messages; an https endpoint is posted to with
``client_tls`` (the DCC's client certificate, and the CA it trusts for the endpoint).
"""

from __future__ import annotations

import json
import logging
import queue
import ssl
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from dataclasses import dataclass
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from harness.domain.eui64 import normalise_eui64
from harness.protocols.duis import sign

Signer = tuple[ec.EllipticCurvePrivateKey, x509.Certificate]

__all__ = ["REGISTRATION_PATH", "AsyncDelivery", "FailedDelivery"]

log = logging.getLogger("meterbench.emulator.dcc")

REGISTRATION_PATH = "/emulator/endpoint"
"""Where a user's receiving endpoint is registered with the emulated DCC (not DUIS)."""


@dataclass(frozen=True)
class FailedDelivery:
    """A message the emulated DCC could not POST: to whom, where, and why."""

    user_id: str
    url: str
    reason: str


class AsyncDelivery:
    """Users' receiving endpoints and the worker that POSTs messages to them."""

    def __init__(self, delay_s: float = 0.05, timeout_s: float = 5.0, *,
                 signer: Signer | None = None, client_tls: ssl.SSLContext | None = None
                 ) -> None:
        self.delay_s = delay_s
        self.timeout_s = timeout_s
        self.signer = signer
        self.client_tls = client_tls
        self._endpoints: dict[str, str] = {}
        self._lock = threading.Lock()
        self._queue: queue.Queue[tuple[float, str, str, bytes] | None] = queue.Queue()
        self.failures: deque[FailedDelivery] = deque(maxlen=100)
        self.delivered = 0
        self._thread: threading.Thread | None = None

    # -- registration ----------------------------------------------------------------------------

    def register(self, user_id: str, url: str) -> None:
        """Post ``user_id``'s responses and alerts to ``url`` (ValueError naming the fault)."""
        user = normalise_eui64(user_id)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"url {url!r} is not an http(s) URL")
        with self._lock:
            self._endpoints[user] = url
        log.info("emulated DCC: user %s receives at %s", user, url)

    def register_json(self, data: bytes) -> tuple[int, str]:
        """Handle a registration POST body: (HTTP status, text)."""
        try:
            fields = json.loads(data)
            if not isinstance(fields, dict):
                raise ValueError("expected a JSON object")
            user_id, url = fields.get("user_id"), fields.get("url")
            if not isinstance(user_id, str) or not isinstance(url, str):
                raise ValueError("expected string fields user_id and url")
            self.register(user_id, url)
        except (ValueError, UnicodeDecodeError) as exc:
            return 400, f"{REGISTRATION_PATH}: {exc}"
        return 204, ""

    def endpoints(self) -> dict[str, str]:
        """Registered endpoints by user (16 hex digits)."""
        with self._lock:
            return dict(self._endpoints)

    # -- delivery --------------------------------------------------------------------------------

    def send(self, user_id: str, body: bytes) -> bool:
        """Queue ``body`` for ``user_id``'s endpoint; False (logged) if none is registered."""
        user = normalise_eui64(user_id)
        with self._lock:
            url = self._endpoints.get(user)
        if url is None:
            log.warning("emulated DCC: user %s registered no endpoint; message dropped", user)
            self.failures.append(FailedDelivery(user, "", "no endpoint registered"))
            return False
        self._queue.put((time.monotonic() + self.delay_s, user, url, body))
        return True

    def start(self) -> None:
        """Start the delivery worker."""
        self._thread = threading.Thread(target=self._run, daemon=True, name="dcc-delivery")
        self._thread.start()

    def stop(self) -> None:
        """Stop the worker after what is queued; safe to call twice."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=self.timeout_s + 1)
            self._thread = None

    def _run(self) -> None:
        """POST each queued message when its time comes."""
        while (item := self._queue.get()) is not None:
            due, user, url, body = item
            time.sleep(max(0.0, due - time.monotonic()))
            self._post(user, url, body)

    def _post(self, user: str, url: str, body: bytes) -> None:
        """One POST (signed, over mutual TLS for https); anything but 2xx is a failure,
        logged and kept."""
        if self.signer is not None:
            body = sign(body, *self.signer)
        request = urllib.request.Request(url, data=body, method="POST",
                                         headers={"Content-Type": "application/xml"})
        context = self.client_tls if url.startswith("https:") else None
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s,
                                        context=context) as answer:
                answer.read()
            self.delivered += 1
        except (urllib.error.URLError, OSError, ValueError) as exc:
            log.warning("emulated DCC: POST to %s for %s failed: %s", url, user, exc)
            self.failures.append(FailedDelivery(user, url, str(exc)))
