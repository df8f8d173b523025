"""Helpers for the hostile-bytes tests: counted server errors, a second client, memory peaks."""

from __future__ import annotations

import socket
import threading
import time
import tracemalloc
from collections.abc import Callable

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from harness.emulator.fuzz import Address, hostile_client

PROBE_TIMEOUT_S = 3.0
"""How long the second client waits for its answer."""

FUZZ = settings(max_examples=50, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])
"""Bounded hypothesis settings for a fuzz test over sockets (a few seconds each)."""


def hostile(tokens: tuple[bytes, ...]) -> st.SearchStrategy[bytes]:
    """Protocol tokens mixed with raw bytes, joined."""
    part = st.sampled_from(tokens) | st.binary(min_size=1, max_size=48)
    return st.lists(part, min_size=1, max_size=12).map(b"".join)


def survives(address: Address, data: bytes, probe: Callable[[Address, float], bool],
             probe_address: Address | None = None) -> bool:
    """Send ``data`` from one client (kept connected); does a second client get served?"""
    with hostile_client(address, data):
        return probe(probe_address or address, PROBE_TIMEOUT_S)


def closed_by_peer(sock: socket.socket, timeout: float = 3.0) -> bool:
    """Whether the server closes ``sock`` (EOF or reset) within ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            if not sock.recv(65536):
                return True
        except TimeoutError:
            return False
        except OSError:
            return True
    return False


def send_in_background(address: Address, data: bytes) -> threading.Thread:
    """Push ``data`` to ``address`` from a thread (the server may stop reading: allowed)."""
    def push() -> None:
        try:
            with socket.create_connection(address, timeout=10) as sock:
                sock.sendall(data)
                sock.shutdown(socket.SHUT_WR)
                closed_by_peer(sock, 10)
        except OSError:
            pass

    thread = threading.Thread(target=push, daemon=True)
    thread.start()
    return thread


def traced_peak(action: Callable[[], None]) -> int:
    """Peak bytes allocated (all threads) while ``action`` runs, above the start level."""
    tracemalloc.start()
    try:
        start, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        action()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - start
