"""Hostile inputs and health probes for the emulated servers, over real sockets.

What the fuzz tests (``tests/emulator/test_hostile_*.py``) and ``benchmarks/fuzz_servers.py``
throw at each server, and how they check it still serves: each :class:`Target` has a
protocol-biased vocabulary (Telnet/RFC 2217, IEC 62056-21, Telegesis AT, SCPI, HTTP + DUIS)
that :func:`random_input` mixes with raw bytes, and a ``probe`` that opens a SECOND
connection, sends one well-formed request and says whether a well-formed answer came back
within the timeout.
"""

from __future__ import annotations

import contextlib
import random
import re
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

__all__ = ["TARGETS", "Target", "hostile_client", "random_input", "tcp_address"]

Address = tuple[str, int]


def tcp_address(resource: str) -> Address:
    """(host, port) of ``socket://h:p``, ``rfc2217://h:p``, ``http://h:p`` or a VISA socket."""
    visa = re.fullmatch(r"TCPIP\d*::([^:]+)::(\d+)::SOCKET", resource)
    if visa:
        return visa.group(1), int(visa.group(2))
    url = re.fullmatch(r"[a-z0-9]+://([^:/]+):(\d+)(/.*)?", resource)
    if url is None:
        raise ValueError(f"not a TCP resource: {resource!r}")
    return url.group(1), int(url.group(2))


def _exchange(address: Address, request: bytes, done: Callable[[bytes], bool],
              timeout: float) -> bytes:
    """Send ``request`` on a new connection; read until ``done(received)`` or the timeout."""
    deadline = time.monotonic() + timeout
    received = b""
    with socket.create_connection(address, timeout=timeout) as sock:
        sock.sendall(request)
        while not done(received):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            sock.settimeout(remaining)
            try:
                chunk = sock.recv(4096)
            except TimeoutError:
                break
            if not chunk:
                break
            received += chunk
    return received


def _served(address: Address, request: bytes, answer: re.Pattern[bytes],
            timeout: float) -> bool:
    try:
        received = _exchange(address, request, lambda got: bool(answer.search(got)), timeout)
    except OSError:
        return False
    return bool(answer.search(received))


_IDENTIFICATION = re.compile(rb"/[A-Za-z]{3}\d[^\r\n/]{1,40}\r\n")


def probe_optical(address: Address, timeout: float) -> bool:
    """A sign-on request (300 Bd 7E1 on either listener) is answered with an identification."""
    return _served(address, b"/?!\r\n", _IDENTIFICATION, timeout)


def probe_dongle(address: Address, timeout: float) -> bool:
    """``ATI`` is answered with the module's identity and ``OK``."""
    return _served(address, b"\r\nATI\r\n", re.compile(rb"ETRX\d+.*?OK\r\n", re.S), timeout)


def probe_scpi(address: Address, timeout: float) -> bool:
    """``*IDN?`` is answered with an identity line."""
    return _served(address, b"*IDN?\n", re.compile(rb"[^\n]+,[^\n]*\n"), timeout)


_NOT_DUIS = b"<notduis/>"


def probe_dcc(address: Address, timeout: float) -> bool:
    """A (malformed) DUIS request gets its DUIS answer: HTTP 200 and EMB01, via the service."""
    request = (b"POST /api/v1/serviceD HTTP/1.1\r\nHost: dcc\r\nConnection: close\r\n"
               b"Content-Type: application/xml\r\nContent-Length: %d\r\n\r\n%s"
               % (len(_NOT_DUIS), _NOT_DUIS))
    return _served(address, request, re.compile(rb"^HTTP/1\.[01] 200 .*EMB01", re.S), timeout)


# -- vocabularies ------------------------------------------------------------------------------

_IAC, _SB, _SE = b"\xff", b"\xfa", b"\xf0"
TELNET_TOKENS: tuple[bytes, ...] = (
    _IAC, _IAC + _SB, _IAC + _SE, _IAC + _IAC, b"\xff\xfb", b"\xff\xfc", b"\xff\xfd",
    b"\xff\xfe", b"\x2c", b"\x00", b"\x01", b"\x02", b"\x03", b"\x04", b"\x05", b"\x06",
    b"\x0c", b"\x65", b"\x66", b"\x6a", b"\x00\x00\x25\x80", b"\xff\xfa\x2c\x01\x00\xff\xf0",
    b"\xff\xfa\x2c\x01\x00\x00\x25\x80\xff\xf0", b"\xff\xfa\x2c\x02\xff\xf0",
    b"\xff\xfa\x2c\x03\x09\xff\xf0", b"\xff\xfa\x2c\x04\xff\xf0", b"\xff\xfa\x2c\x05\xff\xf0",
    b"\xff\xfa\x2c\x0c\xff\xf0", b"/?!\r\n", b"\x06050\r\n", b"\x06051\r\n",
    b"\x01P1\x02(00000000)\x03", b"\x01R1\x02C.1.0()\x03", b"\x01B0\x03q", b"\x15",
)
AT_TOKENS: tuple[bytes, ...] = (
    b"AT", b"ATI", b"ATS", b"AT+", b"+PJOIN", b"+EN", b"+DASSL", b"+N", b"+NTABLE:00,",
    b"ATS0A=", b"ATS09=", b"ATS0A1=1", b":password", b"=", b"?", b":", b",", b"0010",
    b"FFFF", b"0000000000000000", b"\r", b"\n", b"\r\n", b"\x00", b"\xff", "é".encode(),
    b"9" * 64, b"A" * 300,
)
SCPI_TOKENS: tuple[bytes, ...] = (
    b"*IDN?", b"*RST", b"*CLS", b"*OPC?", b"SYST:ERR?", b"INST:NSEL", b"INST:NSEL?",
    b"OUTP", b"OUTP?", b"VOLT", b"CURR", b"MEAS:VOLT?", b"MEAS:CURR?", b"SOUR:", b":",
    b";", b"?", b" ", b"ON", b"OFF", b"1", b"nan", b"inf", b"-1e999", b"1e999", b"0" * 5000,
    b"9" * 400, "²".encode(), b"\n", b"\r\n", b"\x00", b"\xff\xfe",
)
_DUIS_FIELD = (b"5" * 5000, "ü".encode(), b"", b"-1", b"1e9", b"&amp;", b"<![CDATA[x]]>",
               b"\xff", b"00-00")
HTTP_TOKENS: tuple[bytes, ...] = (
    b"POST /api/v1/serviceD HTTP/1.1\r\n", b"POST /api/v1/serviceS HTTP/1.1\r\n",
    b"GET / HTTP/1.1\r\n", b"POST /emulator/endpoint HTTP/1.1\r\n", b"PUT / HTTP/1.0\r\n",
    b"Content-Length: 10\r\n", b"Content-Length: 99999999999999999999\r\n",
    b"Content-Length: -1\r\n", b"Content-Length: \xb2\r\n", b"Transfer-Encoding: chunked\r\n",
    b"Expect: 100-continue\r\n", b"Content-Type: application/xml\r\n", b"\r\n", b"\r\n\r\n",
    b"<?xml version='1.0'?>", b"<sr:Request xmlns:sr='http://www.dccinterface.co.uk/"
    b"ServiceUserGateway'>", b"<sr:Header><sr:RequestID>", b"</sr:RequestID>",
    b"<sr:CommandVariant>", b"</sr:CommandVariant>", b"</sr:Header>", b"</sr:Request>",
    b"<!DOCTYPE x [<!ENTITY a 'aaaa'>]>", b"&a;", *_DUIS_FIELD,
)


def random_input(rng: random.Random, tokens: tuple[bytes, ...], max_parts: int = 12,
                 max_random: int = 64) -> bytes:
    """One hostile input: protocol tokens mixed with random bytes."""
    parts = []
    for _ in range(rng.randint(1, max_parts)):
        if rng.random() < 0.7:
            parts.append(rng.choice(tokens))
        else:
            parts.append(rng.randbytes(rng.randint(1, max_random)))
    return b"".join(parts)


def http_request(body: bytes, path: bytes = b"/api/v1/serviceD") -> bytes:
    """A well-framed POST carrying ``body`` (the DCC then has to parse it)."""
    return (b"POST %s HTTP/1.1\r\nHost: dcc\r\nContent-Type: application/xml\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (path, len(body), body))


def duis_template() -> bytes:
    """A well-formed, unsigned 8.2 Read Inventory to mutate."""
    from harness.protocols.duis import RequestId, build_request, read_inventory

    rid = RequestId.parse("90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:1000")
    return build_request(read_inventory(rid, "00-DB-12-34-56-78-90-A0"))


_TEXT = re.compile(rb">([^<>]+)<")


def mutate_duis(rng: random.Random, template: bytes) -> bytes:
    """``template`` with a few element texts replaced by hostile values, framed as HTTP."""
    texts = list(_TEXT.finditer(template))
    body = template
    for match in sorted(rng.sample(texts, min(len(texts), rng.randint(1, 3))),
                        key=lambda m: m.start(), reverse=True):
        value = rng.choice(_DUIS_FIELD) if rng.random() < 0.7 else rng.randbytes(16)
        body = body[:match.start(1)] + value + body[match.end(1):]
    path = rng.choice([b"/api/v1/serviceD", b"/api/v1/serviceS", b"/api/v1/serviceT"])
    return http_request(body, path)


@dataclass(frozen=True)
class Target:
    """One emulated server to fuzz: how to find it, what to send, how to check it."""

    name: str
    tokens: tuple[bytes, ...]
    probe: Callable[[Address, float], bool]

    def generate(self, rng: random.Random) -> bytes:
        """One hostile input for this server."""
        if self.tokens is HTTP_TOKENS and rng.random() < 0.5:
            return mutate_duis(rng, _template())
        return random_input(rng, self.tokens)


_TEMPLATE: list[bytes] = []


def _template() -> bytes:
    if not _TEMPLATE:
        _TEMPLATE.append(duis_template())
    return _TEMPLATE[0]


TARGETS: dict[str, Target] = {
    "optical-rfc2217": Target("optical-rfc2217", TELNET_TOKENS, probe_optical),
    "optical-socket": Target("optical-socket", TELNET_TOKENS, probe_optical),
    "dongle": Target("dongle", AT_TOKENS, probe_dongle),
    "scpi": Target("scpi", SCPI_TOKENS, probe_scpi),
    "dcc": Target("dcc", HTTP_TOKENS, probe_dcc),
}
"""Every fuzzed server, by name (the optical port's two listeners are two targets)."""


@contextlib.contextmanager
def hostile_client(address: Address, data: bytes, timeout: float = 2.0
                   ) -> Iterator[socket.socket | None]:
    """Connect, send ``data`` (a server may close early: that is allowed), stay connected."""
    try:
        sock = socket.create_connection(address, timeout=timeout)
    except OSError:
        yield None
        return
    try:
        with contextlib.suppress(OSError):
            sock.sendall(data)
        yield sock
    finally:
        with contextlib.suppress(OSError):
            sock.close()
